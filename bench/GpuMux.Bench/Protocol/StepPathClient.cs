using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using GpuMux.Client;

namespace GpuMux.Bench.Protocol;

/// <summary>
/// The client half of <c>GpuMux.Bench steps</c>, in a process of its own so that each side's
/// allocations are counted alone: empty steps through the .NET client, or the raw socket's echo,
/// over some connections with some in flight on each. It says "ready" when warm, starts at "go"
/// on standard input, and ends with "done TICKS BYTES MEDIAN_NS".
/// </summary>
internal static class StepPathClient
{
    // The frame sizes of an empty SubmitStep and its StepCompleted.
    public const int RequestBytes = 16;
    public const int ReplyBytes = 40;

    public static int Run(string socketPath, bool raw, int connections, int depth, int count)
    {
        var perConnection = count / connections;
        var latencies = new long[depth == 1 && connections == 1 ? perConnection : 0];
        Func<int, long[], Task>[] runs = raw
            ? [.. Enumerable.Range(0, connections).Select(_ => RawRunner(socketPath, depth))]
            : [.. Enumerable.Range(0, connections).Select(_ => StepRunner(socketPath, depth))];
        Task.WaitAll([.. runs.Select(run => run(Math.Max(1, perConnection / 10), []))]);

        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        if (Console.In.ReadLine() != "go")
        {
            return 2;
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        Task.WaitAll([.. runs.Select(run => run(perConnection, latencies))]);
        var elapsed = Stopwatch.GetTimestamp() - started;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Array.Sort(latencies);
        var median = latencies.Length == 0 ? 0 : (long)(latencies[latencies.Length / 2] * 1e9 / Stopwatch.Frequency);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done {elapsed} {allocated} {median}"));
        return 0;
    }

    private static Func<int, long[], Task> StepRunner(string socketPath, int depth)
    {
        var client = GpuMuxClient.ConnectAsync(new() { Host = socketPath, ClientName = "bench" }).GetAwaiter().GetResult();
        var steps = Enumerable.Range(0, depth).Select(_ => new StepBuilder()).ToArray();
        return (count, latencies) => Task.WhenAll(steps.Select((step, lane) => SubmitLoopAsync(client, step, count / depth, lane == 0 ? latencies : [])));
    }

    private static async Task SubmitLoopAsync(GpuMuxClient client, StepBuilder step, int count, long[] latencies)
    {
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await client.SubmitAsync(step);
            if (i < latencies.Length)
            {
                latencies[i] = Stopwatch.GetTimestamp() - started;
            }
        }
    }

    private static Func<int, long[], Task> RawRunner(string socketPath, int depth)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        var requests = new byte[RequestBytes * depth];
        var replies = new byte[ReplyBytes * depth];
        return (count, latencies) => PingLoopAsync(socket, requests, replies, count, depth, latencies);
    }

    /// <summary>Keeps <paramref name="depth"/> requests out: one more goes as each reply comes back whole.</summary>
    private static async Task PingLoopAsync(Socket socket, byte[] requests, byte[] replies, int count, int depth, long[] latencies)
    {
        var sent = Math.Min(depth, count);
        var started = Stopwatch.GetTimestamp();
        await socket.SendAsync(requests.AsMemory(0, sent * RequestBytes), SocketFlags.None);
        long receivedBytes = 0;
        var answered = 0;
        while (answered < count)
        {
            receivedBytes += await socket.ReceiveAsync(replies, SocketFlags.None);
            var whole = (int)(receivedBytes / ReplyBytes) - answered;
            if (latencies.Length > answered && whole > 0)
            {
                latencies[answered] = Stopwatch.GetTimestamp() - started;
                started = Stopwatch.GetTimestamp();
            }

            answered += whole;
            var more = Math.Min(whole, count - sent);
            if (more > 0)
            {
                sent += more;
                await socket.SendAsync(requests.AsMemory(0, more * RequestBytes), SocketFlags.None);
            }
        }
    }
}
