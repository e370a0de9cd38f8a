namespace GpuMux.Protocol.Messages;

/// <summary>The flags of a Schedule op; every other bit must be 0.</summary>
[Flags]
public enum ScheduleFlags : byte
{
    None = 0,

    /// <summary>Fail the step with DeadlineMissed, rather than run it, once its deadline has passed.</summary>
    FailIfLate = 1,

    /// <summary>The step is its request's last: under the request policy, its model may be swapped out after it.</summary>
    EndsRequest = 2,
}

internal static class ScheduleFlagsExtensions
{
    public static bool AreKnown(this ScheduleFlags flags) => (flags & ~(ScheduleFlags.FailIfLate | ScheduleFlags.EndsRequest)) == 0;
}
