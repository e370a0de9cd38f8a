using GpuMux.Client;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

public sealed class SessionLifetimeTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_that_vanishes_mid_step_leaves_no_device_memory_behind()
    {
        await using var daemon = await TestDaemon.StartAsync();
        await using var observer = await daemon.ConnectAsync("observer");
        var baseline = await observer.GetStatusAsync(Cancellation);

        var connection = await daemon.ConnectRawAsync();
        await RawFrames.HelloAsync(connection);
        await connection.SendAsync(RawFrames.Encode(MessageType.AllocateBuffer, 2, new SizeMessage(32 << 20)), Cancellation);
        var allocated = await connection.ReadFrameAsync(Cancellation);
        var buffer = Message.Decode<HandleMessage>(allocated!.Payload.Span).Handle;
        await connection.SendAsync(RawFrames.Encode(MessageType.GetFunction, 3, new GetFunction(0, "fill_f32")), Cancellation);
        var found = await connection.ReadFrameAsync(Cancellation);
        var fill = Message.Decode<HandleMessage>(found!.Payload.Span).Handle;
        for (uint id = 10; id < 10 + TestDaemon.MaxInFlightStepsPerSession; id++)
        {
            await connection.SendAsync(FillStep(id, fill, buffer, (32 << 20) / sizeof(float)), Cancellation);
        }

        await daemon.WaitForStatusAsync(observer, s => s.SessionBytes > baseline.SessionBytes);
        connection.Abort();
        await connection.DisposeAsync();

        var after = await daemon.WaitForStatusAsync(observer, s => s.SessionsTotal == 1);
        Assert.Equal(baseline.SessionBytes, after.SessionBytes);
        Assert.Equal(baseline.FreeBytes, after.FreeBytes);
    }

    [Fact]
    public async Task A_session_over_the_limit_is_refused_and_a_slot_frees_when_one_leaves()
    {
        await using var daemon = await TestDaemon.StartAsync("--Limits:MaxSessions=1");
        var first = await daemon.ConnectAsync("first");

        var refused = await Assert.ThrowsAsync<TooManySessionsException>(() => daemon.ConnectAsync("second"));
        Assert.True(refused.IsRetryable);

        await first.DisposeAsync();
        await using var third = await ConnectEventuallyAsync(daemon);
        Assert.NotEqual(first.SessionId, third.SessionId);
    }

    [Fact]
    public async Task Stopping_the_daemon_tells_every_client_and_lets_steps_on_the_gpu_finish()
    {
        var daemon = await TestDaemon.StartAsync();
        await using (daemon)
        {
            var client = await daemon.ConnectAsync();
            await using (client)
            {
                var idle = await daemon.ConnectRawAsync();
                await RawFrames.HelloAsync(idle);
                var spin = await client.GetBuiltinAsync("spin", Cancellation);
                var slow = new StepBuilder().Launch(spin, 1, 1).UInt64(50_000);
                var steps = Enumerable.Range(0, TestDaemon.MaxInFlightStepsPerSession)
                    .Select(_ => client.SubmitAsync(slow, Cancellation).AsTask())
                    .ToArray();

                var stopping = daemon.StopAsync();

                Assert.Equal(ErrorCode.ShuttingDown, (await RawFrames.ReadErrorAsync(idle)).Code);
                Assert.True(await RawFrames.IsClosedAsync(idle));
                await stopping;
                await idle.DisposeAsync();
                var outcomes = await Task.WhenAll(steps.Select(Outcome));
                Assert.All(outcomes, outcome => Assert.True(
                    outcome is null or ShuttingDownException or GpuMuxConnectionException,
                    $"a step ended with {outcome?.GetType().Name}: {outcome?.Message}"));
            }
        }
    }

    private static async Task<Exception?> Outcome(Task step)
    {
        try
        {
            await step;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static async Task<GpuMuxClient> ConnectEventuallyAsync(TestDaemon daemon)
    {
        while (true)
        {
            try
            {
                return await daemon.ConnectAsync("third");
            }
            catch (TooManySessionsException)
            {
                // The daemon releases a session's slot after its close has been processed.
                await Task.Delay(10, Cancellation);
            }
        }
    }

    private static byte[] FillStep(uint requestId, uint fill, uint buffer, ulong count)
    {
        var frame = new byte[256];
        var encoder = new StepEncoder(frame);
        encoder.Launch(fill, 1024, 1, 1, 256, 1, 1);
        encoder.BufferArgument(buffer);
        encoder.Argument(1f);
        encoder.Argument(count);
        return frame[..encoder.Finish(requestId)];
    }
}
