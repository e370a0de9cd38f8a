using System.Text.Json;
using GpuMux.Cli.Output;
using GpuMux.Cli.Status;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.Cli;

public sealed class StatusRendererTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DeviceDescription Device = new(0, "NVIDIA H100 80GB HBM3", 80UL << 30, 9, 0, 132, "0000:41:00.0");

    private static readonly LeaseInfo Lease = new(
        4, "interactive", 1_500_000_000, 60_000_000_000, Now.AddMinutes(-5).ToUnixTimeMilliseconds(), 0, 0, 0, false);

    [Fact]
    public void The_classes_are_a_table_of_their_queues_and_shares()
    {
        var text = Render(Report());

        Assert.Contains("Stream priority", RenderedText.Line(text, "Minimum share"));
        var interactive = RenderedText.Line(text, "70.0 %");
        Assert.Contains("interactive", interactive);
        Assert.Contains("-5", interactive);
        var standard = RenderedText.Line(text, "30.0 %");
        Assert.Contains("standard", standard);
        Assert.Contains("5.0 %", standard);
        Assert.Contains("request policy", text);
    }

    [Fact]
    public void Each_session_shows_its_class_and_its_lease_s_age_and_gpu_time()
    {
        var text = Render(Report());

        var trainer = RenderedText.Line(text, "trainer");
        Assert.Contains("interactive", trainer);
        Assert.Contains("5 min, GPU 1.50 s / 60.0 s", trainer);
        var notebook = RenderedText.Line(text, "notebook");
        Assert.Contains("standard", notebook);
        Assert.DoesNotContain("GPU", notebook);
        Assert.DoesNotContain("gpumuxctl", text);
    }

    [Fact]
    public void An_expired_lease_says_so_and_a_lease_without_a_budget_is_unlimited()
    {
        var expired = StatusRenderer.Lease(LeaseStatus.From(Lease with { Expired = true }), Now);
        var open = StatusRenderer.Lease(LeaseStatus.From(Lease with { MaxGpuNs = 0 }), Now);

        Assert.Equal("5 min, GPU 1.50 s / 60.0 s, expired", expired);
        Assert.Equal("5 min, GPU 1.50 s / unlimited", open);
        Assert.Equal("-", StatusRenderer.Lease(null, Now));
    }

    [Fact]
    public void A_daemon_older_than_1_2_gets_no_class_table_and_no_class_columns()
    {
        var text = Render(Report() with { Scheduling = null });

        Assert.DoesNotContain("Stream priority", text);
        Assert.DoesNotContain("Lease", text);
        Assert.DoesNotContain("policy", text);
        Assert.Contains("trainer", text);
    }

    [Fact]
    public void Other_tenants_sessions_are_one_line_of_totals_and_not_taken_for_sessions_that_did_not_fit()
    {
        var report = Report() with { SessionsTotal = 8, Others = new OtherSessions(2, 4, 3UL << 30, 5, 1) };

        var text = Render(report);

        Assert.Contains("4 sessions of 2 other tenants, not shown: 3.0 GiB of buffers, 5 steps queued, 1 running.", RenderedText.Line(text, "not shown"));
        Assert.Contains("1 more sessions did not fit", text);
        Assert.DoesNotContain("not shown", Render(Report() with { Others = new OtherSessions() }));
    }

    [Fact]
    public void Json_gives_the_other_tenants_totals()
    {
        var status = DaemonStatus.From("/s", Report() with { SessionsTotal = 7, Others = new OtherSessions(2, 4, 4096, 5, 1) }, ownSessionId: 7);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(status, CliJsonContext.Default.DaemonStatus));

        var others = json.RootElement.GetProperty("otherTenants");
        Assert.Equal((2u, 4u, 4096UL), (others.GetProperty("tenants").GetUInt32(), others.GetProperty("sessions").GetUInt32(), others.GetProperty("bufferBytes").GetUInt64()));
        Assert.False(json.RootElement.TryGetProperty("sessionsNotListed", out _));
    }

    private static StatusReport Report()
    {
        var trainer = new SessionEntry(5, 1000, 1000, 4242, "trainer", Now.AddHours(-1).ToUnixTimeMilliseconds(), 2, 4096, 1, 8192, 1, 3, 1, 99, 2);
        var notebook = trainer with { SessionId = 6, ClientName = "notebook" };
        var own = trainer with { SessionId = 7, ClientName = "gpumuxctl" };
        var scheduling = new SchedulingStatus(
            SchedulingPolicy.Request,
            [new PriorityClassEntry("interactive", -5, 2, 1, 0.7, 0), new PriorityClassEntry("standard", -3, 0, 0, 0.3, 0.05)],
            [new SessionClassEntry("interactive", Lease), new SessionClassEntry("standard", null), new SessionClassEntry("standard", null)]);
        return new StatusReport(BackendKind.Cuda, "CUDA 12.6", Device, 1 << 30, 80UL << 30, 4096, 1234, 3, [trainer, notebook, own], scheduling);
    }

    private static string Render(StatusReport report) =>
        RenderedText.Of(console => StatusRenderer.Write(console, DaemonStatus.From("/s", report, ownSessionId: 7), Now));
}
