using GpuMux.Daemon.Configuration;
using GpuMux.Engine.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace GpuMux.Daemon.Metrics;

internal static class MetricsRegistration
{
    /// <summary>
    /// The daemon's meter and gauges, the Prometheus endpoint (idle unless <c>Metrics:Prometheus</c>
    /// is set), and OpenTelemetry's OTLP exporter when <c>Metrics:Otlp</c> is set. Registered after
    /// the engine, so that the endpoint opens once the engine answers.
    /// </summary>
    public static IHostApplicationBuilder AddGpumuxdMetrics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<DaemonMeter>();
        // Made by the endpoint, which every daemon has, so that the gauges exist for OTLP too.
        builder.Services.AddSingleton<EngineGauges>();
        builder.Services.AddHostedService<PrometheusEndpoint>();

        // Read here, before the options are bound, since the SDK is set up as the host is built;
        // an endpoint that is not a URL is left to the options' validation, which stops the start.
        var otlp = builder.Configuration[$"{MetricsOptions.SectionName}:{nameof(MetricsOptions.Otlp)}"];
        if (!string.IsNullOrEmpty(otlp) && Uri.TryCreate(otlp, UriKind.Absolute, out var endpoint))
        {
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService("gpumuxd"))
                .WithMetrics(metrics => metrics.AddMeter(GpuLabels.MeterName).AddOtlpExporter(exporter => exporter.Endpoint = endpoint));
        }
        return builder;
    }
}
