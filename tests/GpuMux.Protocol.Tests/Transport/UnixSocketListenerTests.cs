using System.Net.Sockets;
using System.Runtime.Versioning;
using GpuMux.Protocol.Transport;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Tests.Transport;

[SupportedOSPlatform("linux")]
public sealed class UnixSocketListenerTests
{
    private const UnixFileMode ReadWriteForGroup =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_connects_and_frames_flow_both_ways()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        await using var listener = UnixSocketListener.Bind(path, ReadWriteForGroup, group: null);

        var accepting = listener.AcceptAsync(4096, Cancellation).AsTask();
        await using var client = await FrameConnection.ConnectAsync(path, 4096, Cancellation);
        await using var server = await accepting;
        await client.SendAsync(TestFrames.Encode(1, 3, [1, 2]), Cancellation);
        var request = await server.ReadFrameAsync(Cancellation);
        await server.SendAsync(TestFrames.Encode(0x8001, 3, [4]), Cancellation);
        var reply = await client.ReadFrameAsync(Cancellation);

        Assert.Equal(path, listener.Path);
        Assert.Equal(new byte[] { 1, 2 }, request?.Payload.ToArray());
        Assert.Equal(new byte[] { 4 }, reply?.Payload.ToArray());
        Assert.Equal(Environment.ProcessId, server.Peer.Pid);
    }

    [Fact]
    public async Task The_socket_gets_the_mode_asked_for()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        await using var listener = UnixSocketListener.Bind(path, ReadWriteForGroup, group: null);

        Assert.Equal(ReadWriteForGroup, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task A_missing_parent_directory_is_created_world_readable()
    {
        using var directory = new TempDirectory();
        var parent = directory.File("run");
        await using var listener = UnixSocketListener.Bind(Path.Combine(parent, "d.sock"), ReadWriteForGroup, group: null);

        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            File.GetUnixFileMode(parent));
    }

    [Fact]
    public async Task A_stale_socket_left_by_a_dead_daemon_is_replaced()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        SocketFile.CreateBound(path).Dispose();

        Assert.True(File.Exists(path));
        await using var listener = UnixSocketListener.Bind(path, ReadWriteForGroup, group: null);

        var accepting = listener.AcceptAsync(4096, Cancellation).AsTask();
        await using var client = await FrameConnection.ConnectAsync(path, 4096, Cancellation);
        await using var server = await accepting;
    }

    [Fact]
    public async Task A_socket_someone_listens_on_is_left_alone()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        await using var first = UnixSocketListener.Bind(path, ReadWriteForGroup, group: null);

        var error = Assert.Throws<InvalidOperationException>(() => UnixSocketListener.Bind(path, ReadWriteForGroup, group: null));

        Assert.Contains("another gpumuxd is listening on", error.Message);
        var accepting = first.AcceptAsync(4096, Cancellation).AsTask();
        await using var client = await FrameConnection.ConnectAsync(path, 4096, Cancellation);
        await using var server = await accepting;
    }

    [Fact]
    public void A_socket_whose_listener_is_too_busy_to_accept_is_left_alone()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        using var busy = SocketFile.CreateBound(path);
        SocketFile.Listen(busy, backlog: 0);
        var waiting = new List<Socket>();
        try
        {
            while (true)
            {
                var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
                waiting.Add(client);
                try
                {
                    client.Connect(new UnixDomainSocketEndPoint(path));
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    break;
                }
            }

            var error = Assert.Throws<InvalidOperationException>(() => UnixSocketListener.Bind(path, ReadWriteForGroup, group: null));

            Assert.Contains("another gpumuxd is listening on", error.Message);
        }
        finally
        {
            waiting.ForEach(client => client.Dispose());
        }
    }

    [Fact]
    public void A_path_that_is_not_a_socket_is_refused_and_kept()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        File.WriteAllText(path, "someone's notes");

        var error = Assert.Throws<InvalidOperationException>(() => UnixSocketListener.Bind(path, ReadWriteForGroup, group: null));

        Assert.Contains("not a socket", error.Message);
        Assert.Equal("someone's notes", File.ReadAllText(path));
    }

    [Fact]
    public async Task Disposing_removes_the_socket_file()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        var listener = UnixSocketListener.Bind(path, ReadWriteForGroup, group: null);

        await listener.DisposeAsync();
        await listener.DisposeAsync();

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Disposing_leaves_a_socket_that_replaced_ours()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        var old = UnixSocketListener.Bind(path, ReadWriteForGroup, group: null);
        File.Delete(path);
        await using var successor = UnixSocketListener.Bind(path, ReadWriteForGroup, group: null);

        await old.DisposeAsync();

        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task An_adopted_socket_accepts_and_keeps_its_file()
    {
        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        var activated = SocketFile.CreateBound(path);
        SocketFile.Listen(activated, backlog: 16);
        var listening = new Socket(activated);

        var listener = UnixSocketListener.Adopt(listening);
        var accepting = listener.AcceptAsync(4096, Cancellation).AsTask();
        await using (var client = await FrameConnection.ConnectAsync(path, 4096, Cancellation))
        await using (var server = await accepting)
        {
            Assert.Equal(Environment.ProcessId, server.Peer.Pid);
        }

        await listener.DisposeAsync();

        Assert.Equal(path, listener.Path);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task A_group_that_does_not_exist_is_reported_not_applied()
    {
        using var directory = new TempDirectory();
        await using var listener = UnixSocketListener.Bind(directory.File("d.sock"), ReadWriteForGroup, "no-such-group-gmx");

        Assert.False(listener.GroupApplied);
    }

    [Fact]
    public async Task An_existing_group_owns_the_socket()
    {
        var groupId = (uint)getgid();
        var groupName = File.ReadLines("/etc/group")
            .Select(line => line.Split(':'))
            .FirstOrDefault(fields => fields.Length > 2 && fields[2] == groupId.ToString(System.Globalization.CultureInfo.InvariantCulture))?[0];
        Assert.SkipWhen(groupName is null, $"gid {groupId} has no entry in /etc/group");

        using var directory = new TempDirectory();
        var path = directory.File("d.sock");
        await using var listener = UnixSocketListener.Bind(path, ReadWriteForGroup, groupName);

        Assert.True(listener.GroupApplied);
        Assert.Equal(groupId, GroupOwner(path));
    }

    private static unsafe uint GroupOwner(string path)
    {
        stat status;
        fixed (byte* pathPointer = System.Text.Encoding.UTF8.GetBytes(path + "\0"))
        {
            Assert.Equal(0, lstat(pathPointer, &status));
        }

        return status.st_gid;
    }
}
