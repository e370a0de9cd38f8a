namespace GpuMux.Daemon.Tests;

/// <summary>Files of the repository the tests run from: docs, deploy files, scripts and the other clients.</summary>
internal static class RepositoryFiles
{
    /// <summary>The repository's root: the nearest directory above the test binaries holding the solution.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path inside the repository, from its parts below the root.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "GpuMuxd.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no GpuMuxd.sln above {AppContext.BaseDirectory}");
    }
}
