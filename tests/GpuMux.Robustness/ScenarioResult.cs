using GpuMux.Robustness.Counting;
using GpuMux.Robustness.Daemon;

namespace GpuMux.Robustness;

/// <summary>What one scenario did and found: its counts, examples of what went wrong, figures, and the daemon's resources before and after.</summary>
internal sealed record ScenarioResult(
    string Name,
    string Description,
    string Parameters,
    IReadOnlyList<Counter> Counts,
    IReadOnlyList<(string Kind, long Seen, IReadOnlyList<string> Examples)> Notes,
    IReadOnlyList<(string Name, string Value)> Figures,
    ResourceSample? Before,
    ResourceSample? After,
    TimeSpan Elapsed)
{
    /// <summary>The failures that are not zero, each as "name: value".</summary>
    public IReadOnlyList<string> Failures =>
        [.. Counts.Where(counter => counter.IsFailure && counter.Value != 0).Select(counter => $"{counter.Name}: {counter.Value}")];

    public long Count(string name) => Counts.Single(counter => counter.Name == name).Value;
}
