using System.Collections.Concurrent;

namespace GpuMux.Robustness.Counting;

/// <summary>
/// Examples of what went wrong (a death's exit status and last log lines, a wrong result's first
/// differing value), kept for the report: the first few of each kind, and how many there were.
/// </summary>
internal sealed class Notes(int keepPerKind = 5)
{
    private readonly ConcurrentDictionary<string, Kind> _kinds = new();
    private int _order;

    public void Add(string kind, string text)
    {
        var entry = _kinds.GetOrAdd(kind, _ => new Kind(Interlocked.Increment(ref _order)));
        lock (entry)
        {
            entry.Seen++;
            if (entry.Examples.Count < keepPerKind)
            {
                entry.Examples.Add(text);
            }
        }
    }

    /// <summary>Each kind in the order first seen: how often, and its first examples.</summary>
    public IReadOnlyList<(string Kind, long Seen, IReadOnlyList<string> Examples)> Snapshot() =>
        [.. _kinds.OrderBy(pair => pair.Value.Order).Select(pair =>
        {
            lock (pair.Value)
            {
                return (pair.Key, pair.Value.Seen, (IReadOnlyList<string>)[.. pair.Value.Examples]);
            }
        })];

    private sealed class Kind(int order)
    {
        public int Order { get; } = order;

        public long Seen { get; set; }

        public List<string> Examples { get; } = [];
    }
}
