using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;
using GpuMux.Gpu.Sim;

namespace GpuMux.Engine.Tests.Models;

/// <summary>
/// An engine for the model tests: a simulated device with 256 KiB pages, a device pool of 16 MiB
/// (64 pages), swap-ins in chunks of 256 KiB, and small bounce buffers, so that models a few MiB
/// large go through every path of staging, eviction and swapping in milliseconds.
/// </summary>
internal static class ModelEngine
{
    public const ulong Page = 256 << 10;
    public const ulong Pool = 16 << 20;

    /// <summary>Pad tensors that, with "w" and "tail", make a model of exactly 16 pages (4 MiB).</summary>
    public const int PadTensors = 7;
    public const int PadBytes = (int)(((4 << 20) - (64 * 96 * 4) - 4096) / PadTensors / 16 * 16);

    /// <summary>The engine, with <paramref name="adjust"/>'s changes, on a device whose pinned copies move <paramref name="pinnedCopyBytesPerSecond"/> if given.</summary>
    public static Task<GpuEngine> StartAsync(Func<EngineOptions, EngineOptions>? adjust = null, double? pinnedCopyBytesPerSecond = null)
    {
        var options = new EngineOptions
        {
            DevicePoolBytes = Pool,
            PinnedPoolBytes = 128 << 20,
            LayerGroupTensors = 3,
            SwapChunkBytes = 256 << 10,
            BounceBuffers = 3,
            BounceBufferBytes = 192 << 10,
        };
        var backend = GpuBackends.CreateSim(new GpuBackendOptions
        {
            ModuleCacheDirectory = null,
            Sim = new SimDeviceOptions
            {
                CapacityBytes = 64 << 20,
                AllocationGranularity = Page,
                PinnedCopyBytesPerSecond = pinnedCopyBytesPerSecond ?? new SimDeviceOptions().PinnedCopyBytesPerSecond,
            },
        });
        return GpuEngine.StartAsync(backend, adjust is null ? options : adjust(options), cancellationToken: Ct);
    }

    /// <summary>A model of 4 MiB (16 pages): "w", seven pads, "tail".</summary>
    public static TestModel Sized(string name, int seed, WeightType type = WeightType.F32) =>
        TestModel.Create(name, seed, type, padTensors: PadTensors, padBytes: PadBytes);

    /// <summary>A model of 43 pages: with 16 pages of another model and two tenants' buffers resident, it fits only once that model goes.</summary>
    public static TestModel Big(string name, int seed) =>
        TestModel.Create(name, seed, padTensors: 6, padBytes: 1792 << 10);

    public static ModelStatus StatusOf(IReadOnlyList<ModelStatus> models, string name) => Assert.Single(models, m => m.Name == name);
}
