using GpuMux.Client;
using GpuMux.Daemon.Configuration;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Tenant limits changed in the configuration file apply to a running daemon, or are refused and the old ones kept.</summary>
public sealed class TenantReloadTests : IAsyncLifetime
{
    private const int NeedsRestart = 503;
    private const int Unusable = 512;
    private const int Invalid = 513;
    private const int Vanished = 514;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gmx-reload-");
    private readonly LogRecorder _log = new();
    private TestDaemon _daemon = null!;
    private GpuMuxClient _first = null!;
    private GpuMuxClient _second = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private string ConfigurationFile => Path.Combine(_directory.FullName, "gpumuxd.json");

    public async ValueTask InitializeAsync()
    {
        WriteConfiguration("""{ "Tenants": { "Default": { "MaxLeases": 1 } } }""");
        _daemon = await TestDaemon.StartAsync(
            "--config", ConfigurationFile,
            $"--Logging:LogLevel:{typeof(TenantLimitsReload).FullName}=Information",
            $"--Logging:LogLevel:{typeof(ConfigurationReload).FullName}=Information");
        _daemon.AddLogger(_log);
        _first = await _daemon.ConnectAsync("first");
        _second = await _daemon.ConnectAsync("second");
        await _first.AcquireLeaseAsync(cancellationToken: Cancellation);
    }

    public async ValueTask DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _daemon.DisposeAsync();
        _log.Dispose();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task A_reload_applies_a_new_lease_limit_to_sessions_already_connected()
    {
        await Assert.ThrowsAsync<QuotaExceededException>(() => _second.AcquireLeaseAsync(cancellationToken: Cancellation));

        WriteConfiguration("""{ "Tenants": { "Default": { "MaxLeases": 2 } } }""");
        _daemon.ReloadConfiguration();
        await WaitForMaxLeasesAsync(2);

        var lease = await _second.AcquireLeaseAsync(cancellationToken: Cancellation);
        Assert.False(lease.Expired);
        var tenant = Assert.Single((await _second.GetTenantsAsync(Cancellation)).Tenants);
        Assert.Equal((2u, 2u), (tenant.Leases, tenant.MaxLeases));
    }

    [Fact]
    public async Task A_changed_file_is_read_again_without_being_asked()
    {
        WriteConfiguration("""{ "Tenants": { "Default": { "MaxLeases": 2 } } }""");
        await WaitForMaxLeasesAsync(2);

        await _second.AcquireLeaseAsync(cancellationToken: Cancellation);
    }

    [Fact]
    public async Task An_invalid_reload_is_logged_naming_the_setting_and_the_old_limits_stay()
    {
        WriteConfiguration("""{ "Tenants": { "Default": { "MaxLeases": -1 }, "Uids": { "alice": { "Weight": 0 } } } }""");
        _daemon.ReloadConfiguration();
        string[] problems = [await _log.NextAsync<ConfigurationReload>(Invalid), await _log.NextAsync<ConfigurationReload>(Invalid), await _log.NextAsync<ConfigurationReload>(Invalid)];

        Assert.Contains(problems, p => p.EndsWith("Tenants:Default:MaxLeases is -1; it must be from 0 to 65536.", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Tenants:Uids:alice does not name a uid", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.EndsWith("Tenants:Uids:alice:Weight is 0; it must be above 0 and at most 1000.", StringComparison.Ordinal));
        await Assert.ThrowsAsync<QuotaExceededException>(() => _second.AcquireLeaseAsync(cancellationToken: Cancellation));
    }

    [Fact]
    public async Task A_value_that_does_not_convert_is_logged_and_the_old_limits_stay()
    {
        WriteConfiguration("""{ "Tenants": { "Default": { "MaxLeases": "many" } } }""");
        _daemon.ReloadConfiguration();
        var problem = await _log.NextAsync<ConfigurationReload>(Invalid);

        Assert.EndsWith("Tenants:Default:MaxLeases is 'many'; it must be a whole number from -2147483648 to 2147483647.", problem);
        await Assert.ThrowsAsync<QuotaExceededException>(() => _second.AcquireLeaseAsync(cancellationToken: Cancellation));
    }

    [Fact]
    public async Task A_reload_that_changes_another_section_says_it_needs_a_restart()
    {
        WriteConfiguration("""{ "Tenants": { "Default": { "MaxLeases": 1 } }, "Limits": { "MaxSessions": 3 }, "Scheduling": { "DefaultClass": "batch" } }""");
        _daemon.ReloadConfiguration();

        Assert.Contains("Limits, Scheduling", await _log.NextAsync<TenantLimitsReload>(NeedsRestart));
        var status = await _first.GetStatusAsync(Cancellation);
        Assert.Equal("standard", Assert.NotNull(status.Scheduling).Sessions.Single(s => s.Lease is null).Class);
    }

    [Fact]
    public async Task A_file_that_is_not_JSON_is_logged_and_the_old_limits_stay()
    {
        WriteConfiguration("""{ "Tenants": { "Default": { "MaxLeases": 2 } """);
        _daemon.ReloadConfiguration();

        Assert.Contains("is not valid JSON at line 1", await _log.NextAsync<ConfigurationReload>(Unusable));
        await Assert.ThrowsAsync<QuotaExceededException>(() => _second.AcquireLeaseAsync(cancellationToken: Cancellation));
    }

    [Fact]
    public async Task A_vanished_file_is_logged_and_its_limits_stay()
    {
        File.Delete(ConfigurationFile);
        _daemon.ReloadConfiguration();

        Assert.Contains(ConfigurationFile, await _log.NextAsync<ConfigurationReload>(Vanished));
        await Assert.ThrowsAsync<QuotaExceededException>(() => _second.AcquireLeaseAsync(cancellationToken: Cancellation));
    }

    [Fact]
    public async Task An_invalid_value_in_another_section_refuses_the_whole_reload()
    {
        WriteConfiguration("""{ "Tenants": { "Default": { "MaxLeases": 2 } }, "Limits": { "MaxSessions": 0 } }""");
        _daemon.ReloadConfiguration();

        Assert.EndsWith("Limits:MaxSessions is 0; it must be from 1 to 65536.", await _log.NextAsync<ConfigurationReload>(Invalid));
        await Assert.ThrowsAsync<QuotaExceededException>(() => _second.AcquireLeaseAsync(cancellationToken: Cancellation));
    }

    /// <summary>
    /// Replaces the file whole, as editors and configuration tools do, so that the daemon's poll
    /// never reads it half written.
    /// </summary>
    private void WriteConfiguration(string json)
    {
        var next = ConfigurationFile + ".next";
        File.WriteAllText(next, json);
        File.Move(next, ConfigurationFile, overwrite: true);
    }

    /// <summary>Waits until the daemon reports the lease limit, which a reload (asked for, or noticed) applies in the background.</summary>
    private async Task WaitForMaxLeasesAsync(uint maxLeases)
    {
        while (Assert.Single((await _second.GetTenantsAsync(Cancellation)).Tenants).MaxLeases != maxLeases)
        {
            await Task.Delay(20, Cancellation);
        }
    }
}
