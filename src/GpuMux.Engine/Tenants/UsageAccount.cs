namespace GpuMux.Engine.Tenants;

/// <summary>What one tenant's or one model's steps have used since the engine started. Engine thread only.</summary>
internal sealed class UsageAccount
{
    private readonly DelayHistogram _delays = new();

    public long GpuNs { get; private set; }

    public long Steps { get; private set; }

    public long Swaps { get; private set; }

    public ulong BytesMoved { get; private set; }

    /// <summary>A step that ran: the device time charged to it, its copies' bytes, and how long it waited to start.</summary>
    public void AddStep(long gpuNs, ulong bytesCopied, long queueDelayNs)
    {
        GpuNs += gpuNs;
        Steps++;
        BytesMoved += bytesCopied;
        _delays.Add(queueDelayNs);
    }

    public void AddSwap(ulong bytes)
    {
        Swaps++;
        BytesMoved += bytes;
    }

    public UsageFigures Figures() => new(
        GpuNs / 1e9,
        Steps,
        Swaps,
        BytesMoved,
        _delays.PercentileMilliseconds(0.5),
        _delays.PercentileMilliseconds(0.99));
}
