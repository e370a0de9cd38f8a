using System.Net.Sockets;
using System.Text;

namespace GpuMux.Daemon.Tests.Hosting;

/// <summary>
/// A datagram socket that stands in for the service manager's notification socket: what it
/// receives, one message a datagram, is what the daemon told the service manager.
/// </summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly string? _directory;

    private NotifySocket(string address, string? directory)
    {
        Address = address;
        _directory = directory;
    }

    /// <summary>The value of NOTIFY_SOCKET that reaches it.</summary>
    public string Address { get; }

    /// <summary>One in the abstract namespace, named as NOTIFY_SOCKET names it, with a leading '@'.</summary>
    public static NotifySocket Abstract()
    {
        var name = $"gpumux-test-notify-{Guid.NewGuid():N}";
        var socket = new NotifySocket("@" + name, directory: null);
        socket._socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
        return socket;
    }

    /// <summary>One at a path in a private temporary directory.</summary>
    public static NotifySocket AtPath()
    {
        var directory = Directory.CreateTempSubdirectory("gmx-notify-").FullName;
        var path = Path.Combine(directory, "notify");
        var socket = new NotifySocket(path, directory);
        socket._socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    public async Task<string> ReceiveAsync()
    {
        var buffer = new byte[4096];
        var received = await _socket.ReceiveAsync(buffer, SocketFlags.None, TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, received);
    }

    /// <summary>The next message that <paramref name="match"/> accepts; the ones before it are dropped.</summary>
    public async Task<string> ReceiveAsync(Func<string, bool> match)
    {
        while (true)
        {
            var message = await ReceiveAsync();
            if (match(message))
            {
                return message;
            }
        }
    }

    /// <summary>Whether a message has arrived and not been received yet.</summary>
    public bool HasPending => _socket.Available > 0;

    public void Dispose()
    {
        _socket.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
