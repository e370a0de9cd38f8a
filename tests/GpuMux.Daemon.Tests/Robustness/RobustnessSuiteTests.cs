using GpuMux.Robustness;
using GpuMux.Robustness.Fuzzing;
using GpuMux.Robustness.Scenarios;

namespace GpuMux.Daemon.Tests.Robustness;

/// <summary>
/// The robustness suite at the size CI affords: each scenario against a gpumuxd of its own, run as
/// a separate process, so that a death is counted rather than suffered. Every failure count must
/// be zero. <c>GpuMux.Bench robustness</c> runs the same scenarios at full size.
/// </summary>
/// <remarks>
/// A scenario that today's daemon fails is skipped with the defect it finds; the change that
/// fixes the defect removes the skip. The scenarios run alone, after the other tests: they load
/// both cores with a daemon and its clients, which would slow the others' timed waits.
/// </remarks>
[Collection(nameof(RobustnessSuiteTests))]
public sealed class RobustnessSuiteTests : IDisposable
{
    private static readonly SuiteOptions Small = SuiteOptions.Small;

    private static readonly KillPoint[] HoldingBuffers = [KillPoint.WithBuffers, KillPoint.WithStepsInFlight, KillPoint.WithEverything];

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("gmx-robust-");

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private RunSettings Settings => new() { WorkDirectory = _work.FullName };

    [Theory]
    [InlineData(nameof(FuzzFamily.RandomBytes))]
    [InlineData(nameof(FuzzFamily.Fields))]
    [InlineData(nameof(FuzzFamily.Counts))]
    [InlineData(nameof(FuzzFamily.Types))]
    [InlineData(nameof(FuzzFamily.Lengths))]
    [InlineData(nameof(FuzzFamily.Descriptors))]
    [InlineData(nameof(FuzzFamily.Shrink))]
    [InlineData(nameof(FuzzFamily.Cut))]
    [InlineData(nameof(FuzzFamily.Churn))]
    public async Task Fuzzed_frames_and_descriptors_kill_stall_and_corrupt_nothing(string family)
    {
        var result = await FuzzScenario.RunAsync(Settings, Small.Fuzz with { Families = [Enum.Parse<FuzzFamily>(family)] }, Cancellation);

        AssertNoFailures(result);
        Assert.True(result.Count("honest steps") > 0, "the honest client ran no step");
    }

    [Fact]
    public async Task Clients_killed_holding_no_buffer_leave_nothing_behind()
    {
        var options = Small.Killed with { KillPoints = [.. Enum.GetValues<KillPoint>().Except(HoldingBuffers)] };

        var result = await KilledClientsScenario.RunAsync(Settings, options, Cancellation);

        AssertNoFailures(result);
        Assert.Equal(options.Clients, result.Count("clients killed"));
    }

    [Fact]
    public async Task Clients_killed_holding_buffers_leave_nothing_behind_and_fault_nothing()
    {
        var options = Small.Killed with { KillPoints = HoldingBuffers };

        var result = await KilledClientsScenario.RunAsync(Settings, options, Cancellation);

        AssertNoFailures(result);
        Assert.Equal(options.Clients, result.Count("clients killed"));
    }

    [Fact]
    public async Task Every_completion_matches_its_step_once_in_order_and_right()
    {
        var result = await CompletionOrderScenario.RunAsync(Settings, Small.Order, Cancellation);

        AssertNoFailures(result);
        Assert.Equal((long)Small.Order.Clients * Small.Order.StepsPerClient, result.Count("completions"));
    }

    [Fact]
    public async Task Invalid_safetensors_are_refused_and_valid_ones_registered_as_they_are()
    {
        var result = await SafetensorsScenario.RunAsync(Settings, Small.Safetensors, Cancellation);

        AssertNoFailures(result);
        Assert.True(result.Count("engine: accepted") > 0 && result.Count("engine: refused with InvalidModel") > 0, "the files were not a mix of valid and invalid");
    }

    [Fact]
    public async Task A_storm_of_reloads_under_load_applies_the_last_limits_and_hurts_nobody()
    {
        var result = await ReloadScenario.RunAsync(Settings, Small.Reload, Cancellation);

        AssertNoFailures(result);
    }

    [Fact]
    public async Task SIGTERM_under_load_exits_promptly_and_tells_every_client()
    {
        var result = await ShutdownScenario.RunAsync(Settings, Small.Shutdown, Cancellation);

        AssertNoFailures(result);
        Assert.True(result.Count("requests in flight at SIGTERM") > 0, "nothing was in flight");
    }

    public void Dispose() => _work.Delete(recursive: true);

    private static void AssertNoFailures(ScenarioResult result)
    {
        var examples = string.Join('\n', result.Notes.Select(note => $"{note.Kind} ({note.Seen}): {note.Examples[0]}"));
        Assert.True(result.Failures.Count == 0, $"{result.Name}: {string.Join("; ", result.Failures)}\n{examples}");
    }
}

[CollectionDefinition(nameof(RobustnessSuiteTests), DisableParallelization = true)]
public sealed class RobustnessSuiteCollection;
