using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using GpuMux.Daemon.Tests.EndToEnd;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// The .NET client's common scenario (clients/dotnet/Scenario, clients/scenario.md) as a process of
/// its own against a Sim daemon: it prints exactly the lines the scenario gives, each result's
/// sha256 the one computed here from the kernels' C# references.
/// </summary>
public sealed class DotnetScenarioTests
{
    private const int N = 4096;
    private const int Rows = 64;
    private const int Cols = 128;

    [Fact]
    public async Task The_scenario_prints_the_host_s_results_and_ends_ok()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var (exitCode, output) = await RunScenarioAsync(daemon.SocketPath);

        Assert.True(exitCode == 0, output);
        Assert.Equal(ExpectedLines(), output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static string[] ExpectedLines()
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

    private static string Sha256(float[] values) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values.AsSpan())));

    private static async Task<(int ExitCode, string Output)> RunScenarioAsync(string socketPath)
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "gpumux-scenario.dll") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["GPUMUX_HOST"] = socketPath;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var stderr = await errors;
        return (process.ExitCode, await output + (stderr.Length > 0 ? $"\nstderr:\n{stderr}" : ""));
    }
}
