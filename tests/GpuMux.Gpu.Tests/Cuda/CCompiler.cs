using System.Diagnostics;

namespace GpuMux.Gpu.Tests.Cuda;

/// <summary>The C compiler on PATH, for tests that build a small C program or library against the bindings.</summary>
internal static class CCompiler
{
    /// <summary>cc, gcc or clang, whichever is found first; null where there is none.</summary>
    public static string? Find() => new[] { "cc", "gcc", "clang" }.FirstOrDefault(OnPath);

    public static (int ExitCode, string Output) Run(string program, string arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        // Plain ASCII quotes in the compiler's messages, which callers may parse.
        start.Environment["LC_ALL"] = "C";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(directory => File.Exists(Path.Combine(directory, program)));
}
