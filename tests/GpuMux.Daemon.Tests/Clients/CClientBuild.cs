namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// libgpumux (clients/c) configured and built once for the test run, with its tests and examples
/// under AddressSanitizer and UBSan, in a temporary directory removed at the end. Built on first
/// use only, so that a run without cc or cmake pays nothing.
/// </summary>
public sealed class CClientBuild : IAsyncDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gpumux-c-");
    private readonly Lazy<Task> _build;

    public CClientBuild()
    {
        _build = new(BuildAsync);
        var missing = new[] { "cc", "cmake", "ctest" }.Where(tool => !ChildProcess.OnPath(tool)).ToArray();
        MissingTools = missing.Length == 0 ? null : $"needs {string.Join(", ", missing)} on PATH to build clients/c";
    }

    /// <summary>Why the library cannot be built here; null when it can.</summary>
    public string? MissingTools { get; }

    public string BuildDirectory => _directory.FullName;

    /// <summary>The build directory once the library, its tests and its examples are built.</summary>
    public async Task<string> GetAsync()
    {
        await _build.Value;
        return BuildDirectory;
    }

    public ValueTask DisposeAsync()
    {
        _directory.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }

    private async Task BuildAsync()
    {
        var source = RepositoryFiles.PathOf("clients", "c");
        await ChildProcess.RunToSuccessAsync(ChildProcess.StartInfo("cmake", ["-S", source, "-B", BuildDirectory, "-DCMAKE_BUILD_TYPE=Debug", "-DGPUMUX_C_TESTS=ON", "-DGPUMUX_SANITIZE=ON"]));
        await ChildProcess.RunToSuccessAsync(ChildProcess.StartInfo("cmake", ["--build", BuildDirectory, "--parallel", "2"]));
    }
}
