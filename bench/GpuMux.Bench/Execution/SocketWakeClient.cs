using System.Globalization;
using GpuMux.Client;

namespace GpuMux.Bench.Execution;

/// <summary>
/// The client half of <c>GpuMux.Bench wake</c> over the socket, in a process of its own: steps of
/// 300 µs, one at a time, each timed from its end on the device (the completion's EndedAtNs) to the
/// moment the awaiting caller resumes, on this host's CLOCK_MONOTONIC, the daemon's clock. It says
/// "ready" when warm, then answers "idle" and "load" with a line of "done" and the times in
/// microseconds, and stops at "end". Under load, two more connections each keep a 5 ms step of a
/// batch lease on the device.
/// </summary>
internal static class SocketWakeClient
{
    private const int LoadConnections = 2;

    public static int Run(string socket, int steps) => RunAsync(socket, steps).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(string socket, int steps)
    {
        await using var client = await ConnectAsync(socket, "bench-wake");
        var spin = await client.GetBuiltinAsync("spin");
        var step = new StepBuilder().Launch(spin, 1, 32).UInt64(WakeOptions.StepMicroseconds);
        var latencies = new double[steps];
        await MeasureAsync(client, step, latencies.AsMemory(0, Math.Min(steps, 100)));
        Console.Out.WriteLine("ready");
        Console.Out.Flush();

        while (Console.In.ReadLine() is { } command and not "end")
        {
            using var stop = new CancellationTokenSource();
            var load = command == "load" ? await StartLoadAsync(socket, stop.Token) : Task.CompletedTask;
            await MeasureAsync(client, step, latencies);
            await stop.CancelAsync();
            await load;
            Console.Out.WriteLine("done " + string.Join(' ', latencies.Select(us => us.ToString("F1", CultureInfo.InvariantCulture))));
            Console.Out.Flush();
        }
        return 0;
    }

    private static async Task MeasureAsync(GpuMuxClient client, StepBuilder step, Memory<double> latencies)
    {
        for (var i = 0; i < latencies.Length; i++)
        {
            var result = await client.SubmitAsync(step);
            latencies.Span[i] = (MonotonicClock.Now - result.EndedAtNs) / 1e3;
        }
    }

    private static async Task<Task> StartLoadAsync(string socket, CancellationToken stop)
    {
        var loaders = new List<Task>();
        for (var i = 0; i < LoadConnections; i++)
        {
            var load = await ConnectAsync(socket, $"bench-load-{i}");
            await load.AcquireLeaseAsync(SocketWake.LoadClass);
            var spin = await load.GetBuiltinAsync("spin");
            var step = new StepBuilder().Launch(spin, 1, 32).UInt64(WakeOptions.LoadStepMicroseconds);
            // The first step is on the device before the measurement starts.
            var first = load.SubmitAsync(step).AsTask();
            loaders.Add(Task.Run(async () =>
            {
                await using (load)
                {
                    await first;
                    while (!stop.IsCancellationRequested)
                    {
                        await load.SubmitAsync(step);
                    }
                }
            }, CancellationToken.None));
        }
        return Task.WhenAll(loaders);
    }

    private static Task<GpuMuxClient> ConnectAsync(string socket, string name) =>
        GpuMuxClient.ConnectAsync(new() { Host = socket, ClientName = name });
}
