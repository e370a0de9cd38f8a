using GpuMux.Daemon.Configuration;
using GpuMux.Daemon.Connections;
using GpuMux.Daemon.Hosting;
using GpuMux.Daemon.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;

namespace GpuMux.Daemon.Tests.Connections;

public sealed class ClientDescriptorsTests
{
    private static readonly LimitsOptions Limits = new() { MaxSessions = 256, MaxPendingHandshakes = 256 };

    [Fact]
    public void The_budget_is_the_limit_less_what_is_open_and_the_reserve_and_is_logged_plainly_when_it_holds_every_connection_allowed()
    {
        using var logs = new LogRecorder();
        var budget = ClientDescriptors.Size(524_288, 100, Limits, logs.CreateLogger(typeof(ClientDescriptors).FullName!));

        Assert.Equal(524_288 - 100 - ClientDescriptors.Reserve, budget.Capacity);
        Assert.Equal(0, logs.CountSoFar(typeof(ClientDescriptors), 331));
    }

    [Fact]
    public void A_limit_too_low_for_every_connection_allowed_is_warned_about_with_the_number_it_has_room_for()
    {
        using var logs = new LogRecorder();
        var budget = ClientDescriptors.Size(1024, 96, Limits, logs.CreateLogger(typeof(ClientDescriptors).FullName!));

        Assert.Equal(1024 - 96 - ClientDescriptors.Reserve, budget.Capacity);
        Assert.Equal(1, logs.CountSoFar(typeof(ClientDescriptors), 331));
    }

    [Fact]
    public void A_limit_that_leaves_no_room_for_a_client_stops_the_start_saying_what_to_raise()
    {
        var refusal = Assert.Throws<DaemonStartException>(() => ClientDescriptors.Size(200, 96, Limits, NullLogger.Instance));

        Assert.Equal(DaemonExitCode.OsError, refusal.ExitCode);
        Assert.Contains("RLIMIT_NOFILE", refusal.Message);
        Assert.Contains("LimitNOFILE=", refusal.Message);
    }
}
