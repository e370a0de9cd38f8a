using System.Net.Sockets;
using GpuMux.Daemon.Hosting;

namespace GpuMux.Daemon.Tests.Hosting;

public sealed class SocketActivationTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gpumuxd-activation-test-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData("42", "1", 1)]
    [InlineData("42", "2", 2)]
    [InlineData("43", "1", 0)]
    [InlineData(null, "1", 0)]
    [InlineData("42", null, 0)]
    [InlineData("42", "many", 0)]
    public void Descriptors_count_only_when_LISTEN_PID_is_this_process(string? listenPid, string? listenFds, int expected)
    {
        Assert.Equal(expected, SocketActivation.PassedDescriptorCount(listenPid, listenFds, processId: 42));
    }

    [Fact]
    public void A_listening_Unix_stream_socket_is_adopted()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_directory.FullName, "s.sock")));
        listener.Listen();

        using var adopted = SocketActivation.AdoptListening(new SafeSocketHandle(listener.Handle, ownsHandle: false));

        Assert.Equal(AddressFamily.Unix, adopted.AddressFamily);
    }

    [Fact]
    public void A_socket_that_is_not_listening_is_refused()
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(_directory.FullName, "s.sock")));

        var error = Assert.Throws<InvalidOperationException>(
            () => SocketActivation.AdoptListening(new SafeSocketHandle(socket.Handle, ownsHandle: false)));

        Assert.Contains("Unix Stream socket that is not listening", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_datagram_socket_is_refused()
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

        var error = Assert.Throws<InvalidOperationException>(
            () => SocketActivation.AdoptListening(new SafeSocketHandle(socket.Handle, ownsHandle: false)));

        Assert.Contains("a Unix Dgram socket", error.Message, StringComparison.Ordinal);
    }
}
