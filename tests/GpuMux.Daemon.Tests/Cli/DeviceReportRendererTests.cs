using System.Text.Json;
using GpuMux.Cli.Devices;
using GpuMux.Cli.Output;
using GpuMux.Gpu;

namespace GpuMux.Daemon.Tests.Cli;

public sealed class DeviceReportRendererTests
{
    private const string NvrtcPath = "/usr/local/cuda/lib64/libnvrtc.so.12";

    private static readonly BackendReport Cuda = new(
        "cuda", $"CUDA driver 12.4, NVRTC 12.4 ({NvrtcPath})", Simulated: false, FallbackReason: null, "12.4", new CompilerReport("NVRTC", "12.4", NvrtcPath, null));

    private static readonly DeviceReport Device = new(
        0, "NVIDIA A100-SXM4-40GB", "8.0", 40UL << 30, 39UL << 30, 108, "00000000:07:00.0", new StreamPriorities(-5, 0), Simulated: false,
        [new CheckResult("fill f32, 1,000,003 elements", Passed: true, Detail: null, ElapsedMilliseconds: 0.05, GigabytesPerSecond: null)], Error: null);

    [Fact]
    public void The_table_names_the_driver_and_the_nvrtc_with_where_it_was_loaded_from()
    {
        var text = Render(new DevicesReport(Cuda, [Device]));

        Assert.Contains("CUDA, driver 12.4", RenderedText.Line(text, "Backend:"));
        var compiler = RenderedText.Line(text, "Compiler:");
        Assert.Contains("NVRTC 12.4", compiler);
        Assert.Contains(NvrtcPath, compiler);
    }

    [Fact]
    public void The_table_says_why_there_is_no_nvrtc_and_what_still_works()
    {
        const string reason = "no usable libnvrtc: NVRTC 13.0 (libnvrtc.so.13) is newer than the CUDA 12.4 driver, which cannot load what it compiles";
        var backend = Cuda with { Compiler = new CompilerReport("NVRTC", null, null, reason) };

        var compiler = RenderedText.Line(Render(new DevicesReport(backend, [Device])), "Compiler:");

        Assert.Contains("NVRTC unavailable", compiler);
        Assert.Contains(reason, compiler);
        Assert.Contains("PTX and cubins still load", compiler);
    }

    [Fact]
    public void The_simulator_has_no_driver_or_compiler_and_its_line_says_it_is_simulated()
    {
        var backend = BackendReport.From(GpuBackends.Select(BackendPreference.Sim, new GpuBackendOptions { ModuleCacheDirectory = null }));

        var text = Render(new DevicesReport(backend, []));

        Assert.Null(backend.DriverVersion);
        Assert.Null(backend.Compiler);
        Assert.Contains("simulated", RenderedText.Line(text, "Backend:"));
        Assert.DoesNotContain("Compiler:", text);
    }

    [Fact]
    public void Json_gives_the_driver_and_the_nvrtc_as_fields_and_null_on_the_simulator()
    {
        var sim = BackendReport.From(GpuBackends.Select(BackendPreference.Sim, new GpuBackendOptions { ModuleCacheDirectory = null }));

        using var cuda = Json(new DevicesReport(Cuda, [Device]));
        using var simulated = Json(new DevicesReport(sim, []));

        var backend = cuda.RootElement.GetProperty("backend");
        Assert.Equal("12.4", backend.GetProperty("driverVersion").GetString());
        var compiler = backend.GetProperty("compiler");
        Assert.Equal("NVRTC", compiler.GetProperty("name").GetString());
        Assert.Equal("12.4", compiler.GetProperty("version").GetString());
        Assert.Equal(NvrtcPath, compiler.GetProperty("path").GetString());
        Assert.Equal(JsonValueKind.Null, compiler.GetProperty("unavailableReason").ValueKind);
        var simBackend = simulated.RootElement.GetProperty("backend");
        Assert.Equal(JsonValueKind.Null, simBackend.GetProperty("driverVersion").ValueKind);
        Assert.Equal(JsonValueKind.Null, simBackend.GetProperty("compiler").ValueKind);
        Assert.True(simBackend.GetProperty("simulated").GetBoolean());
    }

    private static string Render(DevicesReport report) => RenderedText.Of(console => DeviceReportRenderer.Write(console, report));

    private static JsonDocument Json(DevicesReport report) => JsonDocument.Parse(JsonSerializer.Serialize(report, CliJsonContext.Default.DevicesReport));
}
