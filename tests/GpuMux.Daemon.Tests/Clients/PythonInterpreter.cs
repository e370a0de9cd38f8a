using System.Diagnostics;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>The python3 on PATH, to run the Python client (clients/python) against a test daemon.</summary>
internal static class PythonInterpreter
{
    /// <summary>Where the package <c>gpumux</c> lives in the repository.</summary>
    public static string PackageDirectory { get; } = RepositoryFiles.PathOf("clients", "python");

    /// <summary>
    /// python3 when it is on PATH and 3.11 or later (the package's <c>requires-python</c>);
    /// otherwise null, and the reason says why.
    /// </summary>
    public static async Task<(string? Python, string Reason)> FindAsync()
    {
        var python = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(directory => Path.Combine(directory, "python3"))
            .FirstOrDefault(File.Exists);
        if (python is null)
        {
            return (null, "needs python3 on PATH");
        }

        var (exitCode, version) = await ChildProcess.RunAsync(StartInfo(python, ["-c", "import sys; print(sys.version.split()[0]); sys.exit(sys.version_info < (3, 11))"], host: null));
        return (exitCode == 0 ? python : null, $"needs Python 3.11 or later; {python} is {version.Trim()}");
    }

    /// <summary>
    /// <paramref name="python"/> run in the package's directory with it on PYTHONPATH and
    /// GPUMUX_HOST set to <paramref name="host"/>.
    /// </summary>
    public static ProcessStartInfo StartInfo(string python, IEnumerable<string> arguments, string? host)
    {
        // No __pycache__ left in the source tree.
        var start = ChildProcess.StartInfo(python, arguments, ("PYTHONPATH", PackageDirectory), ("PYTHONDONTWRITEBYTECODE", "1"), ("GPUMUX_HOST", host ?? ""));
        start.WorkingDirectory = PackageDirectory;
        return start;
    }
}
