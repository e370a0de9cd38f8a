using GpuMux.Client;
using GpuMux.Protocol;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>A step past its class's <c>MaxStepMs</c> fails with <c>StepTimedOut</c> on the wire; the daemon resets the device and carries on.</summary>
public sealed class StepTimeLimitTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_step_past_its_class_s_limit_fails_with_StepTimedOut_and_the_session_carries_on()
    {
        await using var daemon = await TestDaemon.StartAsync(
            "--Scheduling:Classes:0:Name=standard",
            "--Scheduling:Classes:0:MinimumShare=0",
            "--Scheduling:Classes:0:MaxStepMs=300");
        await using var client = await daemon.ConnectAsync("spinner");
        var spin = await client.GetBuiltinAsync("spin", Cancellation);

        var timedOut = await Assert.ThrowsAsync<StepTimedOutException>(
            () => client.SubmitAsync(new StepBuilder().Launch(spin, 1, 32).UInt64(60_000_000), Cancellation).AsTask());

        Assert.Equal((ErrorCode)28, timedOut.Code);
        Assert.False(timedOut.IsRetryable);
        Assert.Contains("limit of class standard (0.3 s)", timedOut.Message);
        await client.SubmitAsync(new StepBuilder().Launch(spin, 1, 32).UInt64(1_000), Cancellation);
    }
}
