using System.Runtime.InteropServices;

namespace GpuMux.Daemon.Tests;

/// <summary>The dotnet host running these tests, to start the repository's programs (gpumuxd.dll, the scenario) and tools with.</summary>
internal static class DotnetHost
{
    /// <summary>The runtime's own directory is shared/Microsoft.NETCore.App/&lt;version&gt;/ under the dotnet root.</summary>
    public static string Path { get; } =
        System.IO.Path.GetFullPath(System.IO.Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
}
