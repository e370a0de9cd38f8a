using System.Diagnostics;
using System.Globalization;
using GpuMux.Daemon.Hosting;

namespace GpuMux.Daemon.Tests.Hosting;

public sealed class ServiceManagerNotifierTests
{
    [Fact]
    public async Task A_socket_at_a_path_receives_each_message_as_one_datagram()
    {
        using var manager = NotifySocket.AtPath();
        using var notifier = new ServiceManagerNotifier(manager.Address);

        notifier.Notify("READY=1\nSTATUS=serving");

        Assert.True(notifier.IsEnabled);
        Assert.Equal("READY=1\nSTATUS=serving", await manager.ReceiveAsync());
    }

    [Fact]
    public async Task A_socket_in_the_abstract_namespace_is_named_with_a_leading_at_sign()
    {
        using var manager = NotifySocket.Abstract();
        using var notifier = new ServiceManagerNotifier(manager.Address);

        notifier.Notify("WATCHDOG=1");

        Assert.Equal("WATCHDOG=1", await manager.ReceiveAsync());
    }

    [Fact]
    public async Task A_reload_says_when_it_began_on_the_monotonic_clock_and_that_the_daemon_is_ready_when_it_ends()
    {
        using var manager = NotifySocket.AtPath();
        using var notifier = new ServiceManagerNotifier(manager.Address);

        var before = ServiceManagerNotifier.MonotonicMicroseconds(Stopwatch.GetTimestamp());
        var reload = notifier.Reloading();
        var after = ServiceManagerNotifier.MonotonicMicroseconds(Stopwatch.GetTimestamp());
        var reloading = await manager.ReceiveAsync();
        Assert.False(manager.HasPending);
        reload.Dispose();
        reload.Dispose();

        var lines = reloading.Split('\n');
        Assert.Equal("RELOADING=1", lines[0]);
        var monotonic = long.Parse(Assert.Single(lines, line => line.StartsWith("MONOTONIC_USEC=", StringComparison.Ordinal))["MONOTONIC_USEC=".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(monotonic, before, after);
        Assert.Equal("READY=1", await manager.ReceiveAsync());
        Assert.False(manager.HasPending);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("vsock:2:1234")]
    public void Without_a_unix_socket_to_send_to_nothing_is_sent(string? notifySocket)
    {
        using var notifier = new ServiceManagerNotifier(notifySocket);

        Assert.False(notifier.IsEnabled);
        notifier.Notify("READY=1");
    }

    [Fact]
    public void A_socket_that_is_gone_is_not_an_error()
    {
        string address;
        using (var manager = NotifySocket.AtPath())
        {
            address = manager.Address;
        }
        using var notifier = new ServiceManagerNotifier(address);

        notifier.Notify("READY=1");
    }
}
