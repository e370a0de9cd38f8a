using GpuMux.Cli.Devices;
using GpuMux.Cli.Models;
using GpuMux.Cli.Output;
using GpuMux.Cli.Status;
using GpuMux.Cli.Tenants;
using GpuMux.Protocol.Messages;
using Spectre.Console;

namespace GpuMux.Daemon.Tests.Cli;

/// <summary>
/// Every view fits the terminal it is shown on, as nvidia-smi and systemctl status do: no line is
/// wider, the ids are whole, the columns it leaves out are named, and at an unbounded width
/// (<c>-o wide</c>, a pipe) every column is there.
/// </summary>
public sealed class TerminalWidthTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    // Ids as wide as they get: a pid near pid_max, a uid near 2^32, a session id past a million.
    private const int Pid = 4_194_301;
    private const uint Uid = 4_294_967_294;
    private const ulong SessionId = 12_345_678;

    public static TheoryData<string, int> Views() => new()
    {
        { "status", 80 }, { "status", 120 },
        { "tenants", 80 }, { "tenants", 120 },
        { "models", 80 }, { "models", 120 },
        { "devices", 80 }, { "devices", 120 },
    };

    [Theory]
    [MemberData(nameof(Views))]
    public void Each_view_fits_the_width_with_its_ids_whole(string view, int width)
    {
        var text = Render(view, width);

        var lines = text.Split('\n');
        Assert.All(lines, line => Assert.True(line.TrimEnd('\r').Length <= width, $"{line.Length} columns at {width}: {line}"));
        Assert.DoesNotContain("…", text);
        foreach (var id in Ids(view))
        {
            Assert.Contains(lines, line => line.Contains(id, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("status", "Connected")]
    [InlineData("tenants", "Moved")]
    [InlineData("models", "Swap-in GB/s")]
    [InlineData("devices", "Priorities (high..low)")]
    public void A_narrow_terminal_names_the_columns_it_leaves_out_and_wide_shows_them(string view, string column)
    {
        var narrow = Render(view, 80);
        var wide = Render(view, 1000);

        Assert.Contains(narrow.Split('\n'), line => line.Contains("Not shown at this width", StringComparison.Ordinal) && line.Contains(column, StringComparison.Ordinal));
        Assert.DoesNotContain("Not shown", wide);
        Assert.Contains(column, wide);
    }

    private static string[] Ids(string view) => view switch
    {
        "status" => [$"{SessionId}", $"{Pid}", $"{Uid}"],
        "tenants" => [$"{Uid}"],
        "models" => [$"{SessionId}", "llama-3.1-8b-instruct", $"{Uid}"],
        _ => ["00000000:07:00.0"],
    };

    private static string Render(string view, int width) => RenderedText.Of(console => Write(console, view), width);

    private static void Write(IAnsiConsole console, string view)
    {
        switch (view)
        {
            case "status":
                StatusRenderer.Write(console, DaemonStatus.From("/run/gpumuxd/gpumuxd.sock", Status(), ownSessionId: 1), Now);
                break;
            case "tenants":
                TenantsRenderer.Write(console, TenantsReport.From("/run/gpumuxd/gpumuxd.sock", new TenantReport(1, [Tenant()])), Now);
                break;
            case "models":
                ModelsRenderer.Write(console, ModelsReport.From("/run/gpumuxd/gpumuxd.sock", Models()), Now);
                break;
            default:
                DeviceReportRenderer.Write(console, Devices());
                break;
        }
    }

    private static StatusReport Status()
    {
        var device = new DeviceDescription(0, "NVIDIA H100 80GB HBM3", 80UL << 30, 9, 0, 132, "00000000:41:00.0");
        var session = new SessionEntry(
            SessionId, Uid, Uid, Pid, "vllm-worker-7", Now.AddHours(-1).ToUnixTimeMilliseconds(), 123, 40UL << 30, 4, 2UL << 30, 17, 128, 4, 9_876_543, 12);
        var lease = new LeaseInfo(4, "interactive", 1_500_000_000, 60_000_000_000, Now.AddMinutes(-5).ToUnixTimeMilliseconds(), 0, 0, 0, false);
        var scheduling = new SchedulingStatus(
            SchedulingPolicy.Request,
            [new PriorityClassEntry("interactive", -5, 2, 1, 0.7, 0), new PriorityClassEntry("standard", -3, 1234, 0, 0.3, 0.05)],
            [new SessionClassEntry("interactive", lease)]);
        return new StatusReport(BackendKind.Cuda, "CUDA driver 12.6, NVRTC 12.6", device, 1UL << 30, 80UL << 30, 40UL << 30, 86_400_000, 2, [session], scheduling);
    }

    private static TenantEntry Tenant() => new(
        Uid, 2, 3, 40UL << 30, 64UL << 30, 1, 2, 1234.5, 3600, Now.AddHours(3).ToUnixTimeMilliseconds(), "standard",
        new UsageEntry(1234.5, 9_876_543, 1234, 300UL << 30, 0.25, 4.5));

    private static ModelList Models()
    {
        var model = new ModelEntry(SessionId, 3, "llama-3.1-8b-instruct", Uid, 16UL << 30, 291, 33, ModelTier.Pinned, true, Now.AddSeconds(-5).ToUnixTimeMilliseconds(), 1234, 24.5e9);
        return new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 1, [model], [new UsageEntry(1234.5, 9_876_543, 1234, 300UL << 30, 0.25, 4.5)]);
    }

    private static DevicesReport Devices()
    {
        var backend = new BackendReport("cuda", "CUDA driver 12.4", Simulated: false, FallbackReason: null, "12.4", new CompilerReport("NVRTC", "12.4", "/usr/local/cuda/lib64/libnvrtc.so.12", null));
        var device = new DeviceReport(
            0, "NVIDIA A100-SXM4-40GB", "8.0", 40UL << 30, 39UL << 30, 108, "00000000:07:00.0", new StreamPriorities(-5, 0), Simulated: false,
            [
                new CheckResult("fill f32, 1,000,003 elements", Passed: true, Detail: null, ElapsedMilliseconds: 0.05, GigabytesPerSecond: null),
                new CheckResult("copy host to device, 256 MiB pinned", Passed: true, Detail: null, ElapsedMilliseconds: 10.5, GigabytesPerSecond: 24.5),
            ],
            Error: null);
        return new DevicesReport(backend, [device]);
    }
}
