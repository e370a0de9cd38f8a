using GpuMux.Gpu;
using GpuMux.Linux;

namespace GpuMux.Engine.Memory;

/// <summary>
/// The file tier for weights that do not fit the pinned pool: a few pinned buffers that the
/// weights stream through, from the file to the device. Like the pool, the memory is registered
/// rather than allocated, and survives a device reset through <see cref="Reattach"/>.
/// </summary>
internal sealed class BounceRing : IDisposable
{
    private readonly RegisteredHostMemory _memory;
    private readonly PinnedSlice[] _buffers;

    public BounceRing(GpuContext context, int buffers, ulong bufferBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(buffers);
        ArgumentOutOfRangeException.ThrowIfZero(bufferBytes);
        BufferBytes = bufferBytes;
        // Page-aligned buffers, as reads from the file with O_DIRECT require.
        var pageSize = (ulong)PageMappings.PageSize;
        var stride = checked(bufferBytes + pageSize - 1) / pageSize * pageSize;
        _memory = new RegisteredHostMemory(context, checked(stride * (ulong)buffers), pageSize);
        _buffers = new PinnedSlice[buffers];
        for (var i = 0; i < buffers; i++)
        {
            var offset = (ulong)i * stride;
            _buffers[i] = new PinnedSlice(this, _memory.Pointer + (nint)offset, offset, bufferBytes, stride);
        }
    }

    public int Count => _buffers.Length;

    public ulong BufferBytes { get; }

    public PinnedSlice this[int index] => _buffers[index];

    /// <summary>After a device reset: registers the same buffers with <paramref name="newContext"/>, from its thread.</summary>
    public void Reattach(GpuContext newContext) => _memory.Reattach(newContext);

    /// <summary>Frees the buffers; no copy from them may be in flight.</summary>
    public void Dispose() => _memory.Dispose();
}
