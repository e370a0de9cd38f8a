using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace GpuMux.Bench;

/// <summary>Where and from what a benchmark ran, for the header of a raw results file.</summary>
internal sealed record RunEnvironment(DateTime StartedUtc, string Hostname, string Kernel, string Cpu, string Runtime, string Commit)
{
    public static RunEnvironment Capture() => new(
        DateTime.UtcNow,
        Environment.MachineName,
        TryRun("uname", "-sr") ?? RuntimeInformation.OSDescription,
        $"{CpuModel() ?? "unknown"} ({Environment.ProcessorCount} logical CPUs)",
        RuntimeInformation.FrameworkDescription,
        CurrentCommit());

    /// <summary>Name and value rows for the header of a raw results file.</summary>
    public IEnumerable<string[]> Fields() =>
    [
        ["date (UTC)", StartedUtc.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)],
        ["host", Hostname],
        ["kernel", Kernel],
        ["cpu", Cpu],
        ["runtime", Runtime],
        ["commit", Commit],
    ];

    private static string? CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo")
                .Where(line => line.StartsWith("model name", StringComparison.Ordinal))
                .Select(line => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
                .FirstOrDefault();
        }
        catch (IOException)
        {
            return null;
        }
    }

    // A device machine gets the tree without .git, so the packer passes the commit in GPUMUX_COMMIT.
    private static string CurrentCommit()
    {
        if (Environment.GetEnvironmentVariable("GPUMUX_COMMIT") is { Length: > 0 } commit)
        {
            return commit;
        }
        if (TryRun("git", "rev-parse --short HEAD") is not { } head)
        {
            return "unknown";
        }
        return TryRun("git", "status --porcelain --untracked-files=no") is { Length: > 0 } ? $"{head}-dirty" : head;
    }

    private static string? TryRun(string file, string arguments)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }
            // Drain stderr alongside stdout so that neither pipe can fill and stall the child.
            var errors = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            errors.Wait();
            return process.ExitCode == 0 ? output : null;
        }
        catch (Win32Exception)
        {
            return null;
        }
    }
}
