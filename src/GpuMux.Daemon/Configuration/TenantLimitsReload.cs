using System.Threading.Channels;
using GpuMux.Daemon.Device;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// Applies the Tenants section again each time a new version of the daemon's file is in force
/// (<see cref="ConfigurationReload"/>, which has checked it whole): bound and checked as at start,
/// then handed to the engine. The other sections take effect only at a restart; a reload that
/// changed them says so.
/// </summary>
internal sealed class TenantLimitsReload(
    IConfiguration configuration,
    EngineService engineService,
    IOptions<SchedulingOptions> scheduling,
    ILogger<TenantLimitsReload> logger) : BackgroundService
{
    private static readonly string[] RestartOnlySections =
    [
        SocketOptions.SectionName,
        DeviceOptions.SectionName,
        SimOptions.SectionName,
        LimitsOptions.SectionName,
        MemoryOptions.SectionName,
        SchedulingOptions.SectionName,
        AdminOptions.SectionName,
    ];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Reloads that come while one is applied collapse into one more: the newest file is what counts.
        var reloads = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var atStart = Snapshot();
        using var registration = ChangeToken.OnChange(ReloadToken(), () => reloads.Writer.TryWrite(true));
        try
        {
            await foreach (var _ in reloads.Reader.ReadAllAsync(stoppingToken))
            {
                await ApplyTenantsAsync(stoppingToken);
                ReportRestartOnlyChanges(atStart);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The daemon's file's reload token, where there is one: it fires once a new version of the file,
    /// checked whole, is in force (<see cref="ConfigurationReload"/>). The configuration's own fires
    /// as each provider reloads, so a reload handled on it could read the sections half old and half new.
    /// </summary>
    private Func<IChangeToken> ReloadToken() =>
        DaemonFileProvider.In(configuration) is { } file ? file.GetReloadToken : configuration.GetReloadToken;

    private async Task ApplyTenantsAsync(CancellationToken cancellationToken)
    {
        var tenants = new TenantsOptions();
        try
        {
            configuration.GetSection(TenantsOptions.SectionName).Bind(tenants);
        }
        catch (InvalidOperationException e)
        {
            // The binder's message names the key and the value it could not convert.
            TenantLimitsReloadLog.Rejected(logger, e.Message);
            return;
        }

        var errors = new SettingErrors(TenantsOptions.SectionName);
        tenants.Validate(errors, scheduling.Value.ClassNames);
        if (errors.Messages.Count > 0)
        {
            TenantLimitsReloadLog.Rejected(logger, string.Join(" ", errors.Messages));
            return;
        }

        try
        {
            await engineService.Engine.UpdateTenantLimitsAsync(tenants.ToEngine(), cancellationToken);
            TenantLimitsReloadLog.Applied(logger, tenants.Uids.Count);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A failure here must not stop the daemon: the limits in force stay.
            TenantLimitsReloadLog.Failed(logger, e);
        }
    }

    private void ReportRestartOnlyChanges(Dictionary<string, string> atStart)
    {
        var now = Snapshot();
        var changed = RestartOnlySections.Where(section => atStart[section] != now[section]).ToArray();
        if (changed.Length > 0)
        {
            TenantLimitsReloadLog.NeedsRestart(logger, string.Join(", ", changed));
        }
    }

    /// <summary>Each restart-only section's keys and values, as one comparable text (keys are not case-sensitive).</summary>
    private Dictionary<string, string> Snapshot() => RestartOnlySections.ToDictionary(
        section => section,
        section => string.Join('\n', configuration.GetSection(section).AsEnumerable()
            .Select(setting => $"{setting.Key.ToUpperInvariant()}={setting.Value}")
            .Order(StringComparer.Ordinal)));
}

internal static partial class TenantLimitsReloadLog
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Configuration reloaded: tenant limits applied (default, and {Uids} uids of their own)")]
    public static partial void Applied(ILogger logger, int uids);

    [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "Configuration reloaded, but the tenant limits in it are invalid, so the ones in force stay: {Problems}")]
    public static partial void Rejected(ILogger logger, string problems);

    [LoggerMessage(EventId = 502, Level = LogLevel.Error, Message = "Configuration reloaded, but applying its tenant limits failed; the ones in force stay")]
    public static partial void Failed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Configuration reloaded: {Sections} changed, which take effect only when the daemon restarts")]
    public static partial void NeedsRestart(ILogger logger, string sections);
}
