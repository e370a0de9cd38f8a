using GpuMux.Client;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Leases, classes, deadlines and the tenant report, through the real daemon and client.</summary>
public sealed class LeaseTests : IAsyncLifetime
{
    private TestDaemon _daemon = null!;
    private GpuMuxClient _client = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync("--Tenants:Default:MaxLeases=2");
        _client = await _daemon.ConnectAsync("leaseholder");
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _daemon.DisposeAsync();
    }

    [Fact]
    public async Task A_lease_is_granted_reported_and_released_and_sets_the_session_s_class()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds();

        var granted = await _client.AcquireLeaseAsync("interactive", TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), 64 << 20, Cancellation);

        Assert.Equal(("interactive", 60_000_000_000UL, 64UL << 20, false), (granted.Class, granted.MaxGpuNs, granted.MaxDeviceBytes, granted.Expired));
        Assert.InRange(granted.AcquiredAtUnixMs, before, long.MaxValue);
        Assert.Equal(granted.AcquiredAtUnixMs + 3_600_000, granted.ExpiresAtUnixMs, tolerance: 1000);
        Assert.Equal(granted.Id, (await _client.GetLeaseAsync(Cancellation))?.Id);
        var (session, lease) = await OwnClassAsync();
        Assert.Equal("interactive", session);
        Assert.Equal(granted.Id, lease?.Id);

        await _client.ReleaseLeaseAsync(Cancellation);

        Assert.Null(await _client.GetLeaseAsync(Cancellation));
        Assert.Equal(("standard", (LeaseInfo?)null), await OwnClassAsync());
        await Assert.ThrowsAsync<InvalidArgumentException>(() => _client.ReleaseLeaseAsync(Cancellation));
    }

    [Fact]
    public async Task A_session_holds_one_lease_at_a_time()
    {
        await _client.AcquireLeaseAsync(cancellationToken: Cancellation);

        await Assert.ThrowsAsync<InvalidArgumentException>(() => _client.AcquireLeaseAsync(cancellationToken: Cancellation));
    }

    [Fact]
    public async Task A_class_that_does_not_exist_is_an_invalid_argument()
    {
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => _client.AcquireLeaseAsync("platinum", cancellationToken: Cancellation));

        Assert.Contains("platinum", error.Message);
        Assert.Null(await _client.GetLeaseAsync(Cancellation));
    }

    [Theory]
    [InlineData(0xFFFF_FFFFUL, 0UL)]
    [InlineData(0UL, 0xFFFF_FFFFUL)]
    [InlineData(ulong.MaxValue, ulong.MaxValue)]
    public async Task A_lease_longer_than_the_daemon_can_time_is_an_invalid_argument_and_nothing_is_kept(ulong maxDurationMs, ulong maxGpuMs)
    {
        await using var second = await _daemon.ConnectAsync("second");
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await RawFrames.HelloAsync(connection);
            for (var attempt = 0u; attempt < 3; attempt++)
            {
                await connection.SendAsync(RawFrames.Encode(MessageType.AcquireLease, attempt, new AcquireLease("", maxGpuMs, maxDurationMs, 0)), Cancellation);

                var error = await RawFrames.ReadErrorAsync(connection);
                Assert.Equal(ErrorCode.InvalidArgument, error.Code);
                Assert.Contains("4294967294", error.Text, StringComparison.Ordinal);
            }

            Assert.Null((await RawFrames.AskAsync<LeaseReport>(connection, MessageType.GetLease, 9)).Lease);
        }

        // The uid may hold two leases: the refused ones count against nothing.
        await _client.AcquireLeaseAsync(cancellationToken: Cancellation);
        await second.AcquireLeaseAsync(cancellationToken: Cancellation);
    }

    [Fact]
    public async Task A_uid_holds_at_most_its_leases_over_all_its_sessions()
    {
        await using var second = await _daemon.ConnectAsync("second");
        await using var third = await _daemon.ConnectAsync("third");
        await _client.AcquireLeaseAsync(cancellationToken: Cancellation);
        await second.AcquireLeaseAsync("batch", cancellationToken: Cancellation);

        await Assert.ThrowsAsync<QuotaExceededException>(() => third.AcquireLeaseAsync(cancellationToken: Cancellation));

        await second.ReleaseLeaseAsync(Cancellation);
        await third.AcquireLeaseAsync(cancellationToken: Cancellation);
    }

    [Fact]
    public async Task A_spent_lease_fails_its_session_s_steps_until_released_while_another_session_carries_on()
    {
        await using var other = await _daemon.ConnectAsync("other");
        var spin = await _client.GetBuiltinAsync("spin", Cancellation);
        await _client.AcquireLeaseAsync(maxGpuTime: TimeSpan.FromMilliseconds(1), cancellationToken: Cancellation);
        await using var underLease = await _client.AllocateBufferAsync(4096, Cancellation);
        var slow = new StepBuilder().Launch(spin, 1, 1).UInt64(5_000);

        // The step that spends the budget runs to its end; the budget is checked between steps.
        var ran = 0;
        while (true)
        {
            try
            {
                await _client.SubmitAsync(slow, Cancellation);
                ran++;
            }
            catch (LeaseExpiredException)
            {
                break;
            }
        }

        Assert.InRange(ran, 1, 2);
        Assert.True((await _client.GetLeaseAsync(Cancellation))?.Expired);
        await Assert.ThrowsAsync<LeaseExpiredException>(() => _client.SubmitAsync(slow, Cancellation).AsTask());
        await Assert.ThrowsAsync<LeaseExpiredException>(() => _client.AllocateBufferAsync(4096, Cancellation));
        await Workloads.AxpyAsync(other, seed: 3, steps: 3);

        await _client.ReleaseLeaseAsync(Cancellation);
        await _client.SubmitAsync(slow, Cancellation);
        var fill = await _client.GetBuiltinAsync("fill_f32", Cancellation);
        await Assert.ThrowsAsync<UnknownHandleException>(
            () => _client.SubmitAsync(new StepBuilder().Launch(fill, 1, 32).Buffer(underLease).Float32(1).UInt64(8), Cancellation).AsTask());
    }

    [Fact]
    public async Task The_tenant_report_lists_the_uid_with_its_steps_counted()
    {
        await Workloads.AxpyAsync(_client, seed: 1, steps: 3);
        await _client.AcquireLeaseAsync(cancellationToken: Cancellation);
        var uid = (await _client.GetStatusAsync(Cancellation)).Sessions.Single(s => s.SessionId == _client.SessionId).Uid;

        var report = await _client.GetTenantsAsync(Cancellation);

        var tenant = Assert.Single(report.Tenants, t => t.Uid == uid);
        Assert.Equal(1u, report.TenantsTotal);
        Assert.Equal((1u, 1u, 2u), (tenant.Sessions, tenant.Leases, tenant.MaxLeases));
        Assert.InRange(tenant.Usage.Steps, 3UL, ulong.MaxValue);
        Assert.InRange(tenant.Usage.BytesMoved, 3UL * 3 * 4096 * sizeof(float), ulong.MaxValue);
        Assert.True(tenant.Usage.GpuSeconds > 0);
        Assert.True(double.IsFinite(tenant.Usage.QueueDelayP50Ms));
        Assert.Equal((1.0, 0UL, 0.0, ""), (tenant.Weight, tenant.MaxDeviceBytes, tenant.GpuSecondsPerDay, tenant.HighestClass));
    }

    [Fact]
    public async Task A_step_whose_deadline_has_passed_fails_if_it_asked_to_and_runs_if_not()
    {
        var fill = await _client.GetBuiltinAsync("fill_f32", Cancellation);
        await using var buffer = await _client.AllocateBufferAsync(4096, Cancellation);
        var step = new StepBuilder().Launch(fill, 1, 32).Buffer(buffer).Float32(1).UInt64(8);

        var missed = await Assert.ThrowsAsync<DeadlineMissedException>(() => _client.SubmitAsync(step.Deadline(1, failIfLate: true), Cancellation).AsTask());
        Assert.False(missed.IsRetryable);

        await _client.SubmitAsync(step.Deadline(1, failIfLate: false), Cancellation);
        await _client.SubmitAsync(step.Deadline(long.MaxValue, failIfLate: true).EndRequest(), Cancellation);
    }

    [Fact]
    public async Task The_status_of_a_1_2_session_lists_the_classes_and_a_1_1_session_gets_the_1_1_layout()
    {
        var status = await _client.GetStatusAsync(Cancellation);
        var scheduling = Assert.NotNull(status.Scheduling);
        Assert.Equal(SchedulingPolicy.Step, scheduling.Policy);
        Assert.Equal(["interactive", "standard", "batch"], scheduling.Classes.Select(c => c.Name));
        Assert.Equal(0.05, scheduling.Classes[1].MinimumShare);
        Assert.Equal(status.Sessions.Count, scheduling.Sessions.Count);

        await using var connection = await _daemon.ConnectRawAsync();

        Assert.Equal(1, await RawFrames.HelloAsync(connection, minor: 1));
        var old = await RawFrames.AskAsync<StatusReport>(connection, MessageType.GetStatus, 2);

        Assert.Null(old.Scheduling);
        Assert.Equal(2u, old.SessionsTotal);
    }

    private async Task<(string Class, LeaseInfo? Lease)> OwnClassAsync()
    {
        var status = await _client.GetStatusAsync(Cancellation);
        var index = status.Sessions.ToList().FindIndex(s => s.SessionId == _client.SessionId);
        var entry = Assert.NotNull(status.Scheduling).Sessions[index];
        return (entry.Class, entry.Lease);
    }
}
