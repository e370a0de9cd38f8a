using GpuMux.Client;
using GpuMux.Protocol;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// A device that does not come back from the reset after a fault (the Sim's kernels stop working,
/// so the new context fails its check): clients get <c>DeviceLost</c>, and the daemon stops itself
/// with the exit status that has systemd start it again.
/// </summary>
public sealed class DeviceLossTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_lost_device_fails_the_clients_steps_with_DeviceLost_and_the_daemon_stops_with_status_75()
    {
        await using var daemon = await TestDaemon.StartAsync("--Sim:AfterReset=KernelsDoNotRun", TestDaemon.TrustingModules);
        await using var culprit = await daemon.ConnectAsync("culprit");
        await using var bystander = await daemon.ConnectAsync("bystander");
        await using var buffer = await culprit.AllocateBufferAsync(4096, Cancellation);
        var fill = await RunawayFill.LoadAsync(culprit);
        var culpritSpin = await culprit.GetBuiltinAsync("spin", Cancellation);
        var bystanderSpin = await bystander.GetBuiltinAsync("spin", Cancellation);

        // The runaway fill runs after the spin; the bystander's step, sent once the culprit's is
        // on the device, is queued behind it there.
        var faulting = culprit.SubmitAsync(
            new StepBuilder().Launch(culpritSpin, 1, 32).UInt64(300_000).Runaway(fill, buffer),
            Cancellation).AsTask();
        await daemon.WaitForStatusAsync(culprit, status => status.Sessions.Any(s => s.ClientName == "culprit" && s.StepsRunning > 0));
        var waiting = bystander.SubmitAsync(new StepBuilder().Launch(bystanderSpin, 1, 32).UInt64(1_000), Cancellation).AsTask();

        var lost = await Assert.ThrowsAsync<DeviceLostException>(() => waiting);
        Assert.Equal(ErrorCode.DeviceLost, lost.Code);
        Assert.Contains("could not be set up again", lost.Message);
        // DeviceLost with the bystander's step beside it; KernelFault had the bystander's come too late to be.
        var failed = await Assert.ThrowsAnyAsync<GpuMuxException>(() => faulting);
        Assert.Contains(failed.Code, new[] { ErrorCode.DeviceLost, ErrorCode.KernelFault });
        await daemon.WaitForShutdownAsync();
        Assert.Equal(75, daemon.ExitCode);
    }

    [Fact]
    public async Task A_daemon_stopped_from_outside_exits_with_0()
    {
        await using var daemon = await TestDaemon.StartAsync("--Sim:AfterReset=KernelsDoNotRun");
        await using (var client = await daemon.ConnectAsync())
        {
            await client.GetStatusAsync(Cancellation);
        }

        await daemon.StopAsync();

        Assert.Equal(0, daemon.ExitCode);
    }
}
