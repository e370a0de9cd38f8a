using System.Diagnostics;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>The other clients' tools and programs, run to their end as processes of their own.</summary>
internal static class ChildProcess
{
    /// <summary>Runs <paramref name="start"/> to its end; returns its exit code and its stdout, then its stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var stderr = await error;
        return (process.ExitCode, await output + (stderr.Length > 0 ? $"\nstderr:\n{stderr}" : ""));
    }

    /// <summary>Runs <paramref name="start"/> and returns its output; one that fails fails the test with that output.</summary>
    public static async Task<string> RunToSuccessAsync(ProcessStartInfo start)
    {
        var (exitCode, output) = await RunAsync(start);
        Assert.True(exitCode == 0, $"{start.FileName} {string.Join(' ', start.ArgumentList)} exited with {exitCode}:\n{output}");
        return output;
    }

    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(program);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["LC_ALL"] = "C";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        return start;
    }

    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(directory => File.Exists(Path.Combine(directory, program)));
}
