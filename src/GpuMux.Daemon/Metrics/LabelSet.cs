using System.Runtime.CompilerServices;

namespace GpuMux.Daemon.Metrics;

/// <summary>
/// A measurement's labels as a dictionary key held inline, so that finding a series for a
/// measurement allocates nothing on the thread that records it (the engine thread, for steps).
/// Labels past <see cref="Capacity"/> are dropped: gpumuxd's instruments carry at most five.
/// </summary>
internal struct LabelSet : IEquatable<LabelSet>
{
    public const int Capacity = 8;

    private Labels _names;
    private Labels _values;

    public int Count { get; private set; }

    public static LabelSet Of(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var set = default(LabelSet);
        foreach (var tag in tags)
        {
            if (set.Count == Capacity)
            {
                break;
            }
            set._names[set.Count] = tag.Key;
            // gpumuxd's tags are strings; anything else is formatted (and allocates) here.
            set._values[set.Count] = tag.Value as string ?? Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            set.Count++;
        }
        return set;
    }

    public readonly string NameAt(int index) => _names[index]!;

    public readonly string ValueAt(int index) => _values[index]!;

    public readonly bool Equals(LabelSet other)
    {
        if (Count != other.Count)
        {
            return false;
        }
        for (var i = 0; i < Count; i++)
        {
            if (!string.Equals(_names[i], other._names[i], StringComparison.Ordinal) || !string.Equals(_values[i], other._values[i], StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    public override readonly bool Equals(object? obj) => obj is LabelSet other && Equals(other);

    public override readonly int GetHashCode()
    {
        var hash = new HashCode();
        for (var i = 0; i < Count; i++)
        {
            hash.Add(_names[i], StringComparer.Ordinal);
            hash.Add(_values[i], StringComparer.Ordinal);
        }
        return hash.ToHashCode();
    }

    [InlineArray(Capacity)]
    private struct Labels
    {
        private string? _first;
    }
}
