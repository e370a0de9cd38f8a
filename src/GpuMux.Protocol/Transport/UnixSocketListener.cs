using System.Net.Sockets;

namespace GpuMux.Protocol.Transport;

/// <summary>A listening AF_UNIX stream socket that accepts <see cref="FrameConnection"/>s (or, for other protocols, plain sockets).</summary>
public sealed class UnixSocketListener : IAsyncDisposable
{
    private const int Backlog = 512;

    private const UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly Socket _socket;
    private readonly (ulong Device, ulong Inode)? _created;
    private int _disposed;

    private UnixSocketListener(Socket socket, string? path, (ulong Device, ulong Inode)? created, bool groupApplied)
    {
        _socket = socket;
        _created = created;
        Path = path;
        GroupApplied = groupApplied;
    }

    /// <summary>The socket's path; null for an adopted socket that has none.</summary>
    public string? Path { get; }

    /// <summary>
    /// Whether the socket file was given to the group <see cref="Bind"/> was asked for: false when
    /// none was, when the group does not exist, or when this process may not give files to it.
    /// </summary>
    public bool GroupApplied { get; }

    /// <summary>
    /// Creates the socket at <paramref name="path"/>, replacing a stale one that a crashed daemon
    /// left, with <paramref name="mode"/> and, where it exists, <paramref name="group"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// Something listens on the path already, the path is not a socket, or it is in the user's
    /// fallback directory and that directory is not the user's alone (<see cref="PrivateSocketDirectory"/>).
    /// </exception>
    public static UnixSocketListener Bind(string path, UnixFileMode mode, string? group)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("gpumuxd's socket is a Linux AF_UNIX socket");
        }

        path = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(path)!;
        SocketPaths.SecureFallbackDirectory(path, create: true);
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode);
        }

        RemoveStaleSocket(path);
        var handle = SocketFile.CreateBound(path);
        (ulong Device, ulong Inode)? created = null;
        try
        {
            created = SocketFile.Identify(path);

            // Mode and group are set before listen(), so nobody connects while the file still has the umask's mode.
            File.SetUnixFileMode(path, mode);
            var groupApplied = group is not null && SocketFile.TrySetGroup(path, group);
            SocketFile.Listen(handle, Backlog);
            return new UnixSocketListener(new Socket(handle), path, created, groupApplied);
        }
        catch
        {
            handle.Dispose();
            if (created is { } identity)
            {
                SocketFile.DeleteIfSame(path, identity);
            }

            throw;
        }
    }

    /// <summary>Takes over a socket that is already listening, such as the one systemd passes as descriptor 3; its file is left alone.</summary>
    public static UnixSocketListener Adopt(Socket listening)
    {
        ArgumentNullException.ThrowIfNull(listening);
        if (listening.AddressFamily != AddressFamily.Unix || listening.SocketType != SocketType.Stream)
        {
            throw new ArgumentException("the adopted socket must be an AF_UNIX stream socket", nameof(listening));
        }

        var path = (listening.LocalEndPoint as UnixDomainSocketEndPoint)?.ToString();
        return new UnixSocketListener(listening, string.IsNullOrEmpty(path) ? null : path, created: null, groupApplied: false);
    }

    public async ValueTask<FrameConnection> AcceptAsync(int maxPayloadBytes, CancellationToken cancellationToken)
    {
        var accepted = await _socket.AcceptAsync(cancellationToken);
        try
        {
            return new FrameConnection(accepted, maxPayloadBytes);
        }
        catch
        {
            accepted.Dispose();
            throw;
        }
    }

    public ValueTask<Socket> AcceptSocketAsync(CancellationToken cancellationToken) => _socket.AcceptAsync(cancellationToken);

    /// <summary>Stops listening and removes the socket file this listener created.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
            if (_created is { } identity)
            {
                SocketFile.DeleteIfSame(Path!, identity);
            }
        }

        return ValueTask.CompletedTask;
    }

    private static void RemoveStaleSocket(string path)
    {
        switch (SocketFile.KindAt(path))
        {
            case SocketFile.Kind.Missing:
                return;
            case SocketFile.Kind.Other:
                throw new InvalidOperationException($"{path} exists and is not a socket; gpumuxd will not replace it");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

        // Non-blocking, so a listener whose backlog is full answers EAGAIN (alive) instead of making us wait.
        probe.Blocking = false;
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Nobody accepts on it: a daemon that died without cleaning up left it behind.
            File.Delete(path);
            return;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
            // Alive, with a full backlog.
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"cannot tell whether {path} is in use: {e.Message}", e);
        }

        throw new InvalidOperationException($"another gpumuxd is listening on {path}");
    }
}
