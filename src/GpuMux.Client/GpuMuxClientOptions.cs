using GpuMux.Protocol;

namespace GpuMux.Client;

public sealed class GpuMuxClientOptions
{
    /// <summary>
    /// The daemon's socket: a path or <c>unix:/path</c>. Null reads <c>GPUMUX_HOST</c>, then falls
    /// back to the default path (<see cref="SocketPaths.DefaultPath()"/>).
    /// </summary>
    public string? Host { get; init; }

    /// <summary>How <c>gpumuxctl status</c> shows this client; at most 64 bytes are shown.</summary>
    public string ClientName { get; init; } = Environment.ProcessPath is { } path ? Path.GetFileName(path) : "dotnet";
}
