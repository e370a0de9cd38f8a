using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// Tells the service manager how the daemon is doing, by the sd_notify(3) protocol: one datagram
/// of newline-separated assignments to the AF_UNIX socket named by <c>NOTIFY_SOCKET</c>, a path or,
/// with a leading '@', a name in the abstract namespace. Whoever sets the variable gets the
/// messages: systemd, or a container runtime or supervisor that speaks the protocol. (The hosting
/// package's notifier sends only when the parent process is named <c>systemd</c>, so not under
/// those, and not when the daemon is started through a wrapper.) Failures to send are ignored, as
/// sd_notify's callers do: the service manager is the one that acts on a missing message.
/// </summary>
internal sealed class ServiceManagerNotifier : IDisposable
{
    public const string SocketVariable = "NOTIFY_SOCKET";

    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly Socket? _socket;
    private readonly Lock _sending = new();

    /// <param name="notifySocket">The value of <c>NOTIFY_SOCKET</c>; null or empty when no one listens.</param>
    public ServiceManagerNotifier(string? notifySocket)
    {
        _endPoint = EndPoint(notifySocket);
        if (_endPoint is not null)
        {
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        }
    }

    public static ServiceManagerNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable(SocketVariable));

    /// <summary>Whether anyone listens: otherwise <see cref="Notify"/> does nothing.</summary>
    public bool IsEnabled => _endPoint is not null;

    /// <summary>Sends <paramref name="state"/>, one or more <c>NAME=value</c> lines, in one datagram.</summary>
    public void Notify(string state)
    {
        if (_socket is null)
        {
            return;
        }
        var message = Encoding.UTF8.GetBytes(state);
        lock (_sending)
        {
            try
            {
                _socket.SendTo(message, SocketFlags.None, _endPoint!);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>
    /// Says a reload begins (<c>RELOADING=1</c> with the <c>MONOTONIC_USEC</c> that
    /// <c>Type=notify-reload</c> requires to tell this reload from an earlier one) and, when the
    /// returned scope ends, that the daemon is ready again (<c>READY=1</c>), whether or not the
    /// new configuration was taken: a daemon that keeps its old one is still ready.
    /// </summary>
    public IDisposable Reloading()
    {
        Notify($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds(Stopwatch.GetTimestamp()).ToString(CultureInfo.InvariantCulture)}");
        return new ReloadScope(this);
    }

    public void Dispose()
    {
        lock (_sending)
        {
            _socket?.Dispose();
        }
    }

    /// <summary>CLOCK_MONOTONIC, which <see cref="Stopwatch"/> reads on Linux, in microseconds.</summary>
    internal static long MonotonicMicroseconds(long timestamp) => (long)((Int128)timestamp * 1_000_000 / Stopwatch.Frequency);

    internal static UnixDomainSocketEndPoint? EndPoint(string? notifySocket) => notifySocket switch
    {
        null or "" => null,
        // The abstract namespace: the name starts with a NUL byte where sd_notify's users write '@'.
        ['@', .. var name] => new UnixDomainSocketEndPoint("\0" + name),
        ['/', ..] => new UnixDomainSocketEndPoint(notifySocket),
        // Other forms (vsock:CID:PORT for a virtual machine's manager) are not AF_UNIX addresses.
        _ => null,
    };

    private sealed class ReloadScope(ServiceManagerNotifier notifier) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                notifier.Notify("READY=1");
            }
        }
    }
}
