namespace GpuMux.Robustness.Counting;

/// <summary>A scenario's counters, in the order it declared them, which is the order they are reported in.</summary>
internal sealed class Counts
{
    private readonly List<Counter> _counters = [];

    public IReadOnlyList<Counter> All => _counters;

    /// <summary>The failures that are not zero: what a run at any size must not have.</summary>
    public IEnumerable<Counter> Failed => _counters.Where(counter => counter.IsFailure && counter.Value != 0);

    /// <summary>A count that describes the run (frames sent, steps done).</summary>
    public Counter Tally(string name) => Declare(name, isFailure: false);

    /// <summary>A count that must stay at zero (deaths, hangs, wrong results).</summary>
    public Counter Failure(string name) => Declare(name, isFailure: true);

    private Counter Declare(string name, bool isFailure)
    {
        lock (_counters)
        {
            if (_counters.Any(counter => counter.Name == name))
            {
                throw new InvalidOperationException($"the counter '{name}' is declared twice");
            }

            var counter = new Counter(name, isFailure);
            _counters.Add(counter);
            return counter;
        }
    }
}
