using System.Text.Json;
using GpuMux.Cli.Models;
using GpuMux.Cli.Output;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.Cli;

public sealed class ModelsRendererTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly ModelEntry Used = new(4, 3, "llama-used", 1000, 13UL << 30, 291, 33, ModelTier.Pinned, true, Now.AddSeconds(-5).ToUnixTimeMilliseconds(), 12, 24.5e9);

    private static readonly ModelEntry Idle = Used with { Model = 4, Name = "llama-idle", Resident = false, LastUsedUnixMs = 0, SwapCount = 0, MedianSwapInBytesPerSecond = 0 };

    private static readonly UsageEntry[] Usage = [new(12.5, 300, 12, 3UL << 30, 0.25, 4.5), new(0, 0, 0, 0, double.NaN, double.NaN)];

    [Fact]
    public void Each_model_shows_what_its_steps_have_used()
    {
        var text = Render(new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 2, [Used, Idle], Usage));

        var used = RenderedText.Line(text, "llama-used");
        Assert.Contains("5 s ago", used);
        Assert.Contains("24.5", used);
        Assert.Contains("12.5", used);
        Assert.Contains("300", used);
        Assert.Contains("3.0 GiB", used);
        Assert.Contains("0.25 / 4.50 ms", used);
        Assert.EndsWith("-", RenderedText.Line(text, "llama-idle").TrimEnd().TrimEnd('│', '|').TrimEnd());
        Assert.Contains("Queue p50 / p99", text);
    }

    [Fact]
    public void A_1_2_daemon_s_models_show_a_dash_for_usage_and_null_in_json()
    {
        var list = new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 1, [Used]);

        var used = RenderedText.Line(Render(list), "llama-used");
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(ModelsReport.From("/s", list), CliJsonContext.Default.ModelsReport));

        var cells = used.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["24.5", "-", "-", "-", "-"], cells[^5..]);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("models")[0].GetProperty("usage").ValueKind);
    }

    [Fact]
    public void Json_gives_waits_not_measured_yet_as_null()
    {
        var report = ModelsReport.From("/s", new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 2, [Used, Idle], Usage));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, CliJsonContext.Default.ModelsReport));

        var models = json.RootElement.GetProperty("models");
        Assert.Equal(300UL, models[0].GetProperty("usage").GetProperty("steps").GetUInt64());
        Assert.Equal(4.5, models[0].GetProperty("usage").GetProperty("queueDelayP99Ms").GetDouble());
        Assert.Equal(JsonValueKind.Null, models[1].GetProperty("usage").GetProperty("queueDelayP50Ms").ValueKind);
    }

    [Fact]
    public void Other_tenants_models_are_one_line_of_totals()
    {
        var text = Render(new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 3, [Used], [Usage[0]], new OtherModels(2, 14UL << 30, 1)));

        Assert.Contains("2 models of other tenants, not shown: 14.0 GiB, 1 on the device.", RenderedText.Line(text, "not shown"));
        Assert.DoesNotContain("did not fit", text);
    }

    [Fact]
    public void Spilled_buffers_are_a_line_of_the_header_and_an_object_in_json()
    {
        var list = new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 1, [Used], [Usage[0]], new OtherModels(0, 0, 0), new SpillSummary(3, 6UL << 20, 11, 22UL << 20, 8, 16UL << 20));

        var line = RenderedText.Line(Render(list), "Spilled buffers");
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(ModelsReport.From("/s", list), CliJsonContext.Default.ModelsReport));

        Assert.Contains("3 now (6.0 MiB); 11 spills (22.0 MiB), 8 restores (16.0 MiB) so far", line);
        var spills = json.RootElement.GetProperty("bufferSpills");
        Assert.Equal((3u, 6UL << 20, 11UL, 8UL), (spills.GetProperty("spilledBuffers").GetUInt32(), spills.GetProperty("spilledBytes").GetUInt64(), spills.GetProperty("spills").GetUInt64(), spills.GetProperty("restores").GetUInt64()));
    }

    [Fact]
    public void A_daemon_older_than_1_6_shows_no_spill_line_and_null_in_json()
    {
        var list = new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 1, [Used], [Usage[0]], new OtherModels(0, 0, 0));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(ModelsReport.From("/s", list), CliJsonContext.Default.ModelsReport));

        Assert.DoesNotContain("Spilled", Render(list));
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("bufferSpills").ValueKind);
    }

    private static string Render(ModelList list) =>
        RenderedText.Of(console => ModelsRenderer.Write(console, ModelsReport.From("/s", list), Now));
}
