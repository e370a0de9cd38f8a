using GpuMux.Engine.Tests.Scheduling;

namespace GpuMux.Engine.Tests.Execution;

/// <summary>The engine thread learns of completions from the device, not by polling for them.</summary>
public sealed class CompletionWakeTests
{
    [Fact]
    public async Task The_engine_thread_sleeps_through_a_long_step_rather_than_polling_for_its_end()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var spinner = await SpinSession.OpenAsync(engine, TestEngine.Identity.Uid);
        var before = engine.EngineWakeups;

        spinner.Submit(1, 1_000_000);
        var completion = await spinner.Completions.NextAsync();
        var wakeups = engine.EngineWakeups - before;

        Assert.Equal(EngineError.None, completion.Status);
        // A count, not a time: a second on the device took about a thousand wake-ups when the thread
        // polled every millisecond, and about fifty with only the fault check's timed ones. A slow
        // machine stretches the step, but makes timed waits no more frequent.
        Assert.InRange(wakeups, 1, 250);
    }
}
