using GpuMux.Robustness.Counting;

namespace GpuMux.Robustness.Clients;

/// <summary>What honest clients count in a scenario: every step is verified, so each failure is one the daemon caused.</summary>
internal sealed class HonestCounters(Counts counts, Notes notes)
{
    public Counter Steps { get; } = counts.Tally("honest steps");

    public Counter Errors { get; } = counts.Failure("honest errors");

    /// <summary>
    /// Steps failed with DeviceReset: another step faulted the device while this one was on it.
    /// The protocol says so and asks for a retry; a step that comes back with no error but a wrong
    /// result is counted as wrong, and a fault blamed on an honest step as an error.
    /// </summary>
    public Counter Resets { get; } = counts.Tally("honest steps told DeviceReset (retryable, not their fault)");

    public Counter WrongResults { get; } = counts.Failure("honest wrong results");

    public Counter Hangs { get; } = counts.Failure("honest hangs");

    public Counter ConnectionsLost { get; } = counts.Failure("honest connections lost (daemon alive)");

    public Notes Notes { get; } = notes;

    /// <summary>Each verified step's round trip, submission to completion.</summary>
    public Latencies StepLatency { get; } = new();

    /// <summary>Each status request's round trip: a stalled daemon shows here first.</summary>
    public Latencies StatusLatency { get; } = new();
}
