using System.Diagnostics;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>The python3 on PATH, to run the Python client (clients/python) against a test daemon.</summary>
internal static class PythonInterpreter
{
    /// <summary>Where the package <c>gpumux</c> lives in the repository.</summary>
    public static string PackageDirectory { get; } = RepositoryFiles.PathOf("clients", "python");

    /// <summary>
    /// python3 when it is on PATH and 3.11 or later (the package's <c>requires-python</c>);
    /// otherwise null, and <paramref name="reason"/> says why.
    /// </summary>
    public static string? Find(out string reason)
    {
        var python = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(directory => Path.Combine(directory, "python3"))
            .FirstOrDefault(File.Exists);
        if (python is null)
        {
            reason = "needs python3 on PATH";
            return null;
        }

        var (exitCode, version) = Run(python, ["-c", "import sys; print(sys.version.split()[0]); sys.exit(sys.version_info < (3, 11))"], host: null);
        reason = $"needs Python 3.11 or later; {python} is {version.Trim()}";
        return exitCode == 0 ? python : null;
    }

    /// <summary>
    /// Runs <paramref name="python"/> in the package's directory with it on PYTHONPATH and
    /// GPUMUX_HOST set to <paramref name="host"/>; returns the exit code and stdout and stderr together.
    /// </summary>
    public static (int ExitCode, string Output) Run(string python, IEnumerable<string> arguments, string? host)
    {
        var start = new ProcessStartInfo(python)
        {
            WorkingDirectory = PackageDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["PYTHONPATH"] = PackageDirectory;
        // No __pycache__ left in the source tree.
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        start.Environment["GPUMUX_HOST"] = host ?? "";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }
}
