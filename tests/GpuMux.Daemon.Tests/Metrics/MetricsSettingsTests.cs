using GpuMux.Daemon.Configuration;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Tests.Metrics;

public sealed class MetricsSettingsTests
{
    [Theory]
    [InlineData("")]
    [InlineData("unix:/run/gpumuxd/metrics.sock")]
    [InlineData("127.0.0.1:9464")]
    [InlineData("[::1]:9464")]
    [InlineData("localhost:9464")]
    public void The_Prometheus_endpoint_is_off_a_Unix_socket_or_a_loopback_port(string value)
    {
        Assert.True(Validate(new MetricsOptions { Prometheus = value }).Succeeded);
    }

    [Theory]
    [InlineData("0.0.0.0:9464")]
    [InlineData("192.168.1.5:9464")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("127.0.0.1")]
    [InlineData("::1:9464")]
    [InlineData("metrics.example:9464")]
    public void A_Prometheus_endpoint_that_is_not_loopback_or_has_no_port_is_refused(string value)
    {
        var result = Validate(new MetricsOptions { Prometheus = value });

        Assert.Equal(
            [$"Metrics:Prometheus is '{value}'; it must be empty (off), unix:/path, or a loopback address and a port from 1 to 65535, such as 127.0.0.1:9464, [::1]:9464 or localhost:9464."],
            result.Failures);
    }

    [Fact]
    public void A_Prometheus_socket_must_be_an_absolute_path()
    {
        var result = Validate(new MetricsOptions { Prometheus = "unix:metrics.sock" });

        Assert.Equal(
            ["Metrics:Prometheus is 'unix:metrics.sock'; a Unix socket must be an absolute path of at most 107 bytes, such as unix:/run/gpumuxd/metrics.sock."],
            result.Failures);
    }

    [Theory]
    [InlineData("http://127.0.0.1:4317", true)]
    [InlineData("https://collector.example:4318", true)]
    [InlineData("127.0.0.1:4317", false)]
    [InlineData("ftp://collector", false)]
    public void The_OTLP_endpoint_is_an_http_URL(string value, bool valid)
    {
        Assert.Equal(valid, Validate(new MetricsOptions { Otlp = value }).Succeeded);
    }

    [Theory]
    [InlineData("", "", false)]
    [InlineData("unix:/run/gpumuxd/metrics.sock", "", false)]
    [InlineData("127.0.0.1:9464", "", true)]
    [InlineData("", "http://127.0.0.1:4317", true)]
    public void Only_a_port_or_an_OTLP_collector_needs_the_network(string prometheus, string otlp, bool network)
    {
        Assert.Equal(network, new MetricsOptions { Prometheus = prometheus, Otlp = otlp }.UsesNetwork);
    }

    private static ValidateOptionsResult Validate(MetricsOptions options) =>
        new SettingsValidator<MetricsOptions>().Validate(Options.DefaultName, options);
}
