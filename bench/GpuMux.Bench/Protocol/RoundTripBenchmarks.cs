using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using GpuMux.Client;
using GpuMux.Daemon;
using Microsoft.Extensions.Hosting;

namespace GpuMux.Bench.Protocol;

/// <summary>
/// An empty step through a real gpumuxd (Unix socket, decode, the engine thread, two timing events
/// on the device, the completion back) against the floor under it: a ping-pong of the same frame
/// sizes over a Unix socket with nothing behind it, in the same process and run.
/// </summary>
[MemoryDiagnoser]
public class RoundTripBenchmarks
{
    private const int StepFrameBytes = 16;
    private const int CompletionFrameBytes = 40;

    private readonly byte[] _request = new byte[StepFrameBytes];
    private readonly byte[] _reply = new byte[CompletionFrameBytes];
    private readonly StepBuilder _emptyStep = new();
    private DirectoryInfo _directory = null!;
    private IHost _daemon = null!;
    private GpuMuxClient _client = null!;
    private Socket _pingSocket = null!;
    private Socket _echoSocket = null!;
    private Task _echo = Task.CompletedTask;

    /// <summary>The backend the daemon runs on: <c>sim</c> unless GPUMUX_BENCH_BACKEND says otherwise.</summary>
    public static string Backend => Environment.GetEnvironmentVariable("GPUMUX_BENCH_BACKEND") ?? "sim";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Directory.CreateTempSubdirectory("gmx-bench-");
        var daemonSocket = Path.Combine(_directory.FullName, "d.sock");
        _daemon = DaemonHost.Build(["--socket", daemonSocket, "--backend", Backend, "--Socket:Group=", "--Logging:LogLevel:Default=Error"]);
        await _daemon.StartAsync();
        _client = await GpuMuxClient.ConnectAsync(new() { Host = daemonSocket, ClientName = "bench" });
        (_pingSocket, _echoSocket) = await ConnectedPairAsync(Path.Combine(_directory.FullName, "echo.sock"));
        _echo = Task.Run(EchoAsync);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _pingSocket.Dispose();
        await _echo;
        _echoSocket.Dispose();
        await _client.DisposeAsync();
        await _daemon.StopAsync();
        _daemon.Dispose();
        _directory.Delete(recursive: true);
    }

    [Benchmark(Baseline = true)]
    public async Task RawSocketPingPong()
    {
        await _pingSocket.SendAsync(_request, SocketFlags.None);
        await ReceiveExactlyAsync(_pingSocket, _reply);
    }

    [Benchmark]
    public async Task<long> EmptyStepRoundTrip() => (await _client.SubmitAsync(_emptyStep)).EndedAtNs;

    private async Task EchoAsync()
    {
        var request = new byte[StepFrameBytes];
        var reply = new byte[CompletionFrameBytes];
        while (await ReceiveExactlyAsync(_echoSocket, request))
        {
            await _echoSocket.SendAsync(reply, SocketFlags.None);
        }
    }

    private static async ValueTask<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer)
    {
        var received = 0;
        while (received < buffer.Length)
        {
            var count = await socket.ReceiveAsync(buffer[received..], SocketFlags.None);
            if (count == 0)
            {
                return false;
            }

            received += count;
        }

        return true;
    }

    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync(string path)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return (client, await accept);
    }
}
