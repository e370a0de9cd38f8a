using System.Text.Json;
using GpuMux.Cli.Output;
using GpuMux.Cli.Tenants;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.Cli;

public sealed class TenantsRendererTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly TenantEntry Limited = new(
        1000, 2, 3, 4UL << 20, 8UL << 30, 1, 2, 12.5, 3600, Now.AddHours(3).ToUnixTimeMilliseconds(), "standard",
        new UsageEntry(99.5, 1234, 7, 3UL << 30, 0.25, 4.5));

    private static readonly TenantEntry Unlimited = new(
        1001, 1, 1, 0, 0, 0, 0, 0, 0, 0, "", new UsageEntry(0, 0, 0, 0, double.NaN, double.NaN));

    [Fact]
    public void Each_tenant_shows_its_usage_against_its_limits()
    {
        var text = Render(Limited, Unlimited);

        var limited = RenderedText.Line(text, "1000");
        Assert.Contains("4.0 MiB / 8.0 GiB", limited);
        Assert.Contains("1 / 2", limited);
        Assert.Contains("12.5 / 3600 (3588 left)", limited);
        Assert.Contains("in 3 h", limited);
        Assert.Contains("1234", limited);
        Assert.Contains("3.0 GiB", limited);
        Assert.Contains("0.25 / 4.50 ms", limited);
        Assert.Contains("GPU s, 24 h", text);
        Assert.Contains("Queue p50 / p99", text);
    }

    [Fact]
    public void Limits_of_zero_show_as_unlimited_and_missing_figures_as_a_dash()
    {
        var unlimited = RenderedText.Line(Render(Limited, Unlimited), "1001");

        Assert.Contains("0 B / unlimited", unlimited);
        Assert.Contains("0 / unlimited", unlimited);
        Assert.Contains("0.00 / unlimited", unlimited);
        Assert.EndsWith("-", unlimited.TrimEnd().TrimEnd('│', '|').TrimEnd());
    }

    [Fact]
    public void Json_gives_no_limit_as_null_and_no_nan()
    {
        var report = TenantsReport.From("/run/gpumuxd/gpumuxd.sock", new TenantReport(2, [Limited, Unlimited]));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, CliJsonContext.Default.TenantsReport));

        var tenants = json.RootElement.GetProperty("tenants");
        Assert.Equal(8L << 30, tenants[0].GetProperty("maxDeviceBytes").GetInt64());
        Assert.Equal(3587.5, tenants[0].GetProperty("gpuSecondsLeft").GetDouble());
        Assert.Equal("standard", tenants[0].GetProperty("highestClass").GetString());
        foreach (var unlimited in new[] { "maxDeviceBytes", "maxLeases", "gpuSecondsPerDay", "gpuSecondsLeft", "resetsAt", "highestClass", "queueDelayP50Ms" })
        {
            Assert.Equal(JsonValueKind.Null, tenants[1].GetProperty(unlimited).ValueKind);
        }
    }

    [Fact]
    public void Tenants_that_did_not_fit_are_counted()
    {
        var text = RenderedText.Of(console => TenantsRenderer.Write(console, TenantsReport.From("/s", new TenantReport(5, [Limited])), Now));

        Assert.Contains("4 more tenants did not fit", text);
    }

    [Fact]
    public void Other_tenants_are_one_line_of_totals_and_not_taken_for_tenants_that_did_not_fit()
    {
        var report = new TenantReport(5, [Limited], new OtherTenants(3, 7, 6UL << 30, 2, 42.5));

        var text = RenderedText.Of(console => TenantsRenderer.Write(console, TenantsReport.From("/s", report), Now));

        Assert.Contains("3 other tenants, not shown: 7 sessions, 6.0 GiB of device memory, 2 leases, 42.5 GPU s in 24 h.", RenderedText.Line(text, "not shown"));
        Assert.Contains("1 more tenants did not fit", text);
    }

    private static string Render(params TenantEntry[] tenants) =>
        RenderedText.Of(console => TenantsRenderer.Write(console, TenantsReport.From("/s", new TenantReport((uint)tenants.Length, tenants)), Now));
}
