using GpuMux.Protocol;

namespace GpuMux.Client;

/// <summary>How <see cref="GpuMuxClient.ConnectAsync"/> finds the daemon and introduces itself.</summary>
public sealed class GpuMuxClientOptions
{
    /// <summary>
    /// The daemon's socket: a path or <c>unix:/path</c>. Null reads <c>GPUMUX_HOST</c>, then falls
    /// back to the default path (<see cref="SocketPaths.DefaultPath()"/>).
    /// </summary>
    public string? Host { get; init; }

    /// <summary>How <c>gpumuxctl status</c> shows this client; at most 64 bytes are shown.</summary>
    public string ClientName { get; init; } = Environment.ProcessPath is { } path ? Path.GetFileName(path) : "dotnet";

    /// <summary>
    /// Asks for a session that only reads the daemon's reports (status, models, tenants):
    /// it does not count toward the daemon's session limit, so it is let in when the daemon is full.
    /// A daemon older than protocol 1.5 gives an ordinary session instead (<see cref="GpuMuxClient.InspectOnly"/> says which).
    /// </summary>
    public bool InspectOnly { get; init; }
}
