namespace GpuMux.Gpu.Sim;

/// <summary>What a reset of a simulated device leaves: a device that comes back, or one of the ways a real one does not.</summary>
public enum SimResetOutcome
{
    /// <summary>The reset succeeds and contexts created after it work.</summary>
    Recovers,

    /// <summary>The reset itself fails with <see cref="GpuStatus.NoDevice"/>, as for a GPU that has fallen off the bus.</summary>
    ResetFails,

    /// <summary>
    /// The reset succeeds, but on every context created after it kernels complete without doing
    /// their work, so their results are wrong, as on a GPU whose hardware is damaged. Only a
    /// check of what the device computes notices.
    /// </summary>
    KernelsDoNotRun,
}
