using GpuMux.Daemon.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace GpuMux.Daemon.Tests.Hosting;

public sealed class ServiceManagerNotificationsTests
{
    [Fact]
    public async Task The_daemon_is_ready_once_started_shows_each_new_status_and_says_when_it_stops()
    {
        using var manager = NotifySocket.AtPath();
        using var notifier = new ServiceManagerNotifier(manager.Address);
        var status = new DaemonStatusLine();
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        using var notifications = new ServiceManagerNotifications(notifier, status, lifetime);

        await notifications.StartAsync(TestContext.Current.CancellationToken);
        Assert.Equal("STATUS=Starting", await manager.ReceiveAsync());
        status.Set("serving");
        Assert.Equal("STATUS=serving", await manager.ReceiveAsync());
        lifetime.NotifyStarted();
        Assert.Equal("READY=1\nSTATUS=serving", await manager.ReceiveAsync());
        status.SetFigures("2 sessions");
        Assert.Equal("STATUS=serving; 2 sessions", await manager.ReceiveAsync());
        lifetime.StopApplication();
        Assert.Equal("STOPPING=1", await manager.ReceiveAsync());
        await notifications.StopAsync(TestContext.Current.CancellationToken);

        Assert.True(notifications.ExecuteTask!.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Without_a_service_manager_it_does_nothing()
    {
        using var notifier = new ServiceManagerNotifier(null);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        using var notifications = new ServiceManagerNotifications(notifier, new DaemonStatusLine(), lifetime);

        await notifications.StartAsync(TestContext.Current.CancellationToken);
        lifetime.NotifyStarted();
        await notifications.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.True(notifications.ExecuteTask.IsCompletedSuccessfully);
    }
}
