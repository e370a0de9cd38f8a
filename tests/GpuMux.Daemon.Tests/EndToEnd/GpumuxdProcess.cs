using System.Collections.Concurrent;
using System.Diagnostics;
using static Tmds.Linux.LibC;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>gpumuxd as a process of its own (dotnet gpumuxd.dll), its standard output and error kept line by line.</summary>
internal sealed class GpumuxdProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _error = new();

    private GpumuxdProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, line) => Keep(_output, line.Data);
        process.ErrorDataReceived += (_, line) => Keep(_error, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public IReadOnlyList<string> Output => [.. _output];

    public IReadOnlyList<string> Error => [.. _error];

    public static GpumuxdProcess Start(string workingDirectory, params string[] args)
    {
        var dotnet = DotnetHost.Path;
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "gpumuxd.dll") },
        };
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }
        return new GpumuxdProcess(Process.Start(start) ?? throw new InvalidOperationException("gpumuxd did not start"));
    }

    /// <summary>Runs gpumuxd to its end: its exit status, standard output and error.</summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Output, IReadOnlyList<string> Error)> RunAsync(params string[] args)
    {
        using var gpumuxd = Start(AppContext.BaseDirectory, args);
        var exitCode = await gpumuxd.WaitForExitAsync();
        return (exitCode, gpumuxd.Output, gpumuxd.Error);
    }

    public async Task<int> WaitForExitAsync()
    {
        // Once the process has exited, this also waits for the last of its output to be read.
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Waits until a line of standard output contains <paramref name="text"/>, or the process exits.</summary>
    public async Task WaitForOutputAsync(string text)
    {
        while (!_output.Any(line => line.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
            {
                Assert.Fail($"gpumuxd exited ({_process.ExitCode}) before it wrote '{text}': {string.Join('\n', Output.Concat(Error))}");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Sends <paramref name="signal"/>, a number as in signal.h (SIGHUP).</summary>
    public void Signal(int signal) => Assert.Equal(0, kill(_process.Id, signal));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private static void Keep(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
        }
    }
}
