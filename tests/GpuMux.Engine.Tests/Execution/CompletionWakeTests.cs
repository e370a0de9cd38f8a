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

    [Fact]
    public async Task The_engine_thread_sleeps_while_steps_are_held_behind_a_long_step()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var spinner = await SpinSession.OpenAsync(engine, TestEngine.Identity.Uid);

        spinner.Submit(1, 500_000);
        spinner.SubmitMany(4, 10, firstRequestId: 2);
        // The status is answered after the submissions, in order: the class has the long step and
        // one behind it on the device, and holds the other three.
        var status = SchedulingEngine.ClassOf(await engine.GetStatusAsync(Ct), "standard");
        var before = engine.EngineWakeups;
        var first = await spinner.Completions.NextAsync();
        var wakeups = engine.EngineWakeups - before;
        var rest = await spinner.Completions.NextAsync(4);

        Assert.Equal((3, 2), (status.StepsQueued, status.StepsOnDevice));
        Assert.All(rest.Prepend(first), c => Assert.Equal(EngineError.None, c.Status));
        // A count, not a time: half a second with steps held took 151 wake-ups on a loaded 2-core
        // host when the thread looked again every millisecond (up to 500 on a quiet one), and 25
        // with only the fault check's timed ones.
        Assert.InRange(wakeups, 1, 75);
    }
}
