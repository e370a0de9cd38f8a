using System.Collections.Concurrent;
using GpuMux.Daemon.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace GpuMux.Daemon.Tests.Hosting;

public sealed class SystemdWatchdogTests
{
    [Theory]
    [InlineData("30000000", null, 15_000)]
    [InlineData("30000000", "", 15_000)]
    [InlineData("30000000", "42", 15_000)]
    [InlineData("1", null, 1)]
    public void The_watchdog_is_pinged_at_half_its_timeout(string usec, string? pid, int expectedMilliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), SystemdWatchdog.PingInterval(usec, pid, processId: 42));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("0", null)]
    [InlineData("soon", null)]
    [InlineData("30000000", "43")]
    [InlineData("30000000", "x")]
    public void There_is_no_watchdog_when_systemd_gave_none_to_this_process(string? usec, string? pid)
    {
        Assert.Null(SystemdWatchdog.PingInterval(usec, pid, processId: 42));
    }

    [Fact]
    public async Task Each_new_status_is_published()
    {
        var status = new DaemonStatusLine();
        var notifier = new RecordingNotifier();
        using var watchdog = new SystemdWatchdog(status, notifier);

        await watchdog.StartAsync(TestContext.Current.CancellationToken);
        await notifier.WaitForAsync("STATUS=Starting");
        status.Set("Ready: 1 device");
        await notifier.WaitForAsync("STATUS=Ready: 1 device");
        await watchdog.StopAsync(TestContext.Current.CancellationToken);

        Assert.True(watchdog.ExecuteTask!.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Outside_systemd_it_does_nothing()
    {
        using var watchdog = new SystemdWatchdog(new DaemonStatusLine());

        await watchdog.StartAsync(TestContext.Current.CancellationToken);
        await watchdog.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.True(watchdog.ExecuteTask.IsCompletedSuccessfully);
    }

    private sealed class RecordingNotifier : ISystemdNotifier
    {
        private readonly ConcurrentQueue<string> _sent = new();

        public bool IsEnabled => true;

        public void Notify(ServiceState state) => _sent.Enqueue(state.ToString());

        public async Task WaitForAsync(string state)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            while (!_sent.Contains(state))
            {
                await Task.Delay(10, timeout.Token);
            }
        }
    }
}
