using GpuMux.Daemon.Hosting;
using GpuMux.Engine;
using GpuMux.Gpu;

namespace GpuMux.Daemon.Tests.Hosting;

public sealed class DaemonStatusReportTests
{
    [Fact]
    public void The_figures_are_sessions_steps_per_second_and_the_pools_in_use()
    {
        var figures = DaemonStatusReport.Figures(Status(Session(1, 10), Session(2, 0)), 123.45);

        Assert.Equal("2 sessions, 123.5 steps/s, device pool 1.5 of 4.0 GiB in use, pinned pool 0.5 of 2.0 GiB", figures);
    }

    [Fact]
    public void Steps_per_second_count_what_the_open_sessions_finished_since_the_last_look()
    {
        var rate = new DaemonStatusReport.StepRate();
        Assert.Equal(2, rate.PerSecond([Session(1, 10)], TimeSpan.FromSeconds(5)));

        // Session 1 finished 20 more, session 2 is new with 5; session 3 closed in between.
        Assert.Equal(5, rate.PerSecond([Session(1, 30), Session(2, 5)], TimeSpan.FromSeconds(5)));
    }

    private static SessionStatus Session(long id, long finished) =>
        new(id, new SessionIdentity(1000, 1000, 4242, "status-test"), DateTimeOffset.UnixEpoch, 0, 0, 0, 0, 0, 0, 0, finished, 0, "normal", null);

    private static EngineStatus Status(params SessionStatus[] sessions) => new(
        GpuBackendKind.Sim,
        null!,
        FreeBytes: 0,
        TotalBytes: 0,
        SessionBytes: 0,
        sessions,
        DevicePoolBytes: 4UL << 30,
        DevicePoolFreeBytes: 5UL << 29,
        PinnedPoolBytes: 2UL << 30,
        PinnedPoolFreeBytes: 3UL << 29,
        Policy: default,
        Classes: [],
        Spills: new(0, 0, 0, 0, 0, 0));
}
