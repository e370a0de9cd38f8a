using GpuMux.Daemon.Hosting;

namespace GpuMux.Daemon.Tests.Hosting;

public sealed class DaemonStatusLineTests
{
    [Fact]
    public void Changed_completes_when_the_text_changes()
    {
        var status = new DaemonStatusLine();
        var changed = status.Changed;

        status.Set("Ready");

        Assert.True(changed.IsCompleted);
        Assert.Equal("Ready", status.Current);
        Assert.False(status.Changed.IsCompleted);
    }

    [Fact]
    public void Setting_the_same_text_is_not_a_change()
    {
        var status = new DaemonStatusLine();
        status.Set("Ready");
        var changed = status.Changed;

        status.Set("Ready");

        Assert.False(changed.IsCompleted);
    }

    [Fact]
    public void The_status_stays_on_one_line()
    {
        var status = new DaemonStatusLine();

        status.Set("Ready\n2 sessions");

        Assert.Equal("Ready 2 sessions", status.Current);
    }

    [Fact]
    public void Figures_follow_the_state_until_the_state_changes()
    {
        var status = new DaemonStatusLine();
        status.Set("serving");

        status.SetFigures("2 sessions");
        Assert.Equal("serving; 2 sessions", status.Current);
        status.Set("device lost");
        Assert.Equal("device lost", status.Current);
    }
}
