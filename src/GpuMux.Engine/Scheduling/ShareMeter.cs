namespace GpuMux.Engine.Scheduling;

/// <summary>Device time charged to one class, decaying exponentially over the share window, so recent use counts most.</summary>
internal sealed class ShareMeter(TimeSpan window)
{
    private readonly double _windowNs = window.Ticks * 100.0;
    private double _value;
    private long _atNs;

    public void Add(long gpuNs, long nowNs) => _value = ValueAt(nowNs) + gpuNs;

    public double ValueAt(long nowNs)
    {
        if (nowNs > _atNs)
        {
            _value *= Math.Exp(-(nowNs - _atNs) / _windowNs);
            _atNs = nowNs;
        }
        return _value;
    }
}
