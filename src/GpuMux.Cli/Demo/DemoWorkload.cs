using GpuMux.Client;

namespace GpuMux.Cli.Demo;

/// <summary>
/// What one demo session computes with the built-in kernels. Each step's inputs go through the
/// session's shared region, and its outputs come back there, to be compared bit for bit with
/// <see cref="GpuMux.Gpu.Kernels.KernelReference"/>.
/// </summary>
internal abstract class DemoWorkload(int seed) : IAsyncDisposable
{
    private SharedRegion? _region;

    public abstract string Name { get; }

    protected Random Random { get; } = new(seed);

    protected SharedRegion Region => _region ?? throw new InvalidOperationException("the workload has not been prepared");

    protected abstract ulong RegionBytes { get; }

    /// <summary>Creates the region, then the buffers and functions, and uploads what every step shares.</summary>
    public async Task PrepareAsync(GpuMuxClient client, CancellationToken cancellationToken)
    {
        _region = await client.CreateRegionAsync(RegionBytes, cancellationToken);
        await PrepareDeviceAsync(client, cancellationToken);
    }

    /// <summary>Writes step <paramref name="index"/>'s inputs into the region, works out the expected output, and adds the step's ops.</summary>
    public abstract void BuildStep(StepBuilder step, int index);

    /// <summary>Whether the region holds the expected output of the step built last.</summary>
    public abstract bool Verify();

    public ValueTask DisposeAsync() => _region?.DisposeAsync() ?? ValueTask.CompletedTask;

    protected abstract Task PrepareDeviceAsync(GpuMuxClient client, CancellationToken cancellationToken);

    public const uint BlockSize = 256;

    /// <summary>Blocks of <see cref="BlockSize"/> threads covering <paramref name="threads"/>, capped: the kernels loop over what the grid does not cover.</summary>
    public static uint GridFor(ulong threads) => (uint)Math.Clamp((threads + BlockSize - 1) / BlockSize, 1, 1024);

    /// <summary>Numbers in [-1, 1).</summary>
    protected void FillRandom(Span<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (Random.NextSingle() * 2) - 1;
        }
    }

    /// <summary>Random bits, eight bytes at a time (Random.NextBytes goes byte by byte).</summary>
    protected void FillRandom(Span<long> words)
    {
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = Random.NextInt64(long.MinValue, long.MaxValue);
        }
    }
}
