using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// The clients' common scenario (clients/scenario.md): the lines each client's program must print,
/// computed here from the kernels' C# references, and how to start each program against a daemon.
/// </summary>
internal static class CommonScenario
{
    private const int N = 4096;
    private const int Rows = 64;
    private const int Cols = 128;

    public static string[] ExpectedLines()
    {
        var x = Enumerable.Range(0, N).Select(i => ((7 * i % 101) - 50) / 8f).ToArray();
        var y = Enumerable.Range(0, N).Select(i => ((3 * i % 53) - 26) / 4f).ToArray();
        var w = Enumerable.Range(0, Rows * Cols).Select(k => ((5 * (k / Cols) + 3 * (k % Cols)) % 17 - 8) / 4f).ToArray();
        KernelReference.Axpy(y, x, 0.75f);
        var gemv = new float[Rows];
        KernelReference.GemvF32(w, x.AsSpan(0, Cols), gemv, Rows, Cols);
        var filled = Enumerable.Repeat(1.5f, N).ToArray();
        var gemvHash = Sha256(gemv);
        return
        [
            $"axpy {Sha256(y)}",
            $"gemv_f32 {gemvHash}",
            $"gemv_f16 {gemvHash}",
            $"gemv_bf16 {gemvHash}",
            $"fill {Sha256(filled)}",
            $"checksum {KernelReference.Checksum(MemoryMarshal.AsBytes(filled.AsSpan())):x16}",
            "spin ordered",
            $"model_gemv {gemvHash}",
            "error UnknownFunction",
            "scenario ok",
        ];
    }

    /// <summary>A program's printed lines, its stderr left out.</summary>
    public static string[] Lines(string output) =>
        output.Split("\nstderr:\n")[0].Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>clients/dotnet/Scenario, built beside the tests.</summary>
    public static ProcessStartInfo Dotnet(string socketPath) =>
        ChildProcess.StartInfo(DotnetHost.Path, [Path.Combine(AppContext.BaseDirectory, "gpumux-scenario.dll")], ("GPUMUX_HOST", socketPath));

    /// <summary>clients/python/examples/scenario.py.</summary>
    public static ProcessStartInfo Python(string python, string socketPath) =>
        PythonInterpreter.StartInfo(python, [Path.Combine("examples", "scenario.py")], socketPath);

    /// <summary>clients/c/examples/scenario.c, as <see cref="CClientBuild"/> built it.</summary>
    public static ProcessStartInfo C(string buildDirectory, string socketPath) =>
        ChildProcess.StartInfo(Path.Combine(buildDirectory, "gpumux_scenario"), [], ("GPUMUX_HOST", $"unix:{socketPath}"));

    private static string Sha256(float[] values) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values.AsSpan())));
}
