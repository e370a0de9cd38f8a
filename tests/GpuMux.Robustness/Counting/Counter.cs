namespace GpuMux.Robustness.Counting;

/// <summary>One thing a scenario counts, safe to add to from any thread. A failure is a count that must stay at zero.</summary>
internal sealed class Counter(string name, bool isFailure)
{
    private long _value;

    public string Name { get; } = name;

    public bool IsFailure { get; } = isFailure;

    public long Value => Interlocked.Read(ref _value);

    public void Add(long amount = 1) => Interlocked.Add(ref _value, amount);

    public void Set(long value) => Interlocked.Exchange(ref _value, value);
}
