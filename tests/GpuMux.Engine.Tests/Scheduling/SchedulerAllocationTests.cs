namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>A scheduling decision allocates nothing: the engine thread makes one for every step.</summary>
public sealed class SchedulerAllocationTests
{
    [Theory]
    [InlineData(10, 1)]
    [InlineData(1_000, 10)]
    [InlineData(1_000, 100)]
    public void Decisions_with_steps_held_over_tenants_and_classes_allocate_nothing(int heldSteps, int tenants)
    {
        using var rig = new HeldStepsRig(heldSteps, tenants);
        // Enough for every lazily grown list and queue to reach its size, and for the classes below the first to earn turns.
        for (var i = 0; i < 5_000; i++)
        {
            rig.Decide();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 5_000; i++)
        {
            rig.Decide();
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
