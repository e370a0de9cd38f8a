using System.Net.Sockets;
using GpuMux.Client;
using GpuMux.Protocol;

namespace GpuMux.Cli.Status;

/// <summary>
/// Connects to the daemon for a command, telling "nobody is listening there" (a missing socket, a
/// refused or forbidden connection) apart from a daemon that answered and failed.
/// </summary>
internal static class DaemonConnector
{
    public const string ClientName = "gpumuxctl";

    /// <param name="inspectOnly">
    /// For a command that only reads the reports: its session is outside the daemon's session limit,
    /// so a daemon that is full still answers.
    /// </param>
    /// <returns>The client, or no client and why no daemon answered.</returns>
    public static async Task<(GpuMuxClient? Client, DaemonUnavailable? Unavailable)> TryConnectAsync(
        string socketPath, string clientName, bool inspectOnly, CancellationToken cancellationToken)
    {
        try
        {
            var options = new GpuMuxClientOptions { Host = socketPath, ClientName = clientName, InspectOnly = inspectOnly };
            var client = await GpuMuxClient.ConnectAsync(options, cancellationToken);
            return (client, null);
        }
        catch (GpuMuxConnectionException e) when (e.InnerException is SocketException socket)
        {
            return (null, new DaemonUnavailable(socketPath, socket));
        }
    }
}

/// <summary>Why nothing answered at a socket path, and what to do about it.</summary>
internal sealed record DaemonUnavailable(string SocketPath, SocketException Error)
{
    /// <summary>The errno behind the failure in words: .NET names ENOENT "cannot assign requested address".</summary>
    public string Reason => Error.SocketErrorCode switch
    {
        SocketError.AddressNotAvailable => "no such socket",
        SocketError.ConnectionRefused => "connection refused: a socket file left by a daemon that has stopped",
        SocketError.AccessDenied => "permission denied",
        _ => Error.Message,
    };

    public string Message => Error.SocketErrorCode == SocketError.AccessDenied
        ? $"no permission to connect to gpumuxd at {SocketPath}: the socket is for members of the gpumux group."
        : $"no gpumuxd is listening at {SocketPath} ({Reason}). Start one with `gpumuxd` (or `systemctl start gpumuxd`), "
            + $"or name its socket with --host unix:/path or ${SocketPaths.HostVariable}.";
}
