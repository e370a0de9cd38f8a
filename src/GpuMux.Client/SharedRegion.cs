using GpuMux.Linux;
using GpuMux.Protocol;

namespace GpuMux.Client;

/// <summary>
/// Memory shared with the daemon: write a step's inputs here before submitting it, and read its
/// outputs after it completes. Disposing it releases it on the daemon, then unmaps it; spans taken
/// from it must not be used after that. A region never disposed stays mapped until the process exits.
/// </summary>
public sealed class SharedRegion : IAsyncDisposable
{
    private readonly nint _address;
    private SessionHandle _handle;

    internal SharedRegion(GpuMuxClient owner, uint handle, nint address, ulong length)
    {
        _handle = new SessionHandle(owner, handle, nameof(SharedRegion));
        _address = address;
        Length = length;
    }

    /// <summary>The daemon's handle for the region, as copies name it.</summary>
    public uint Handle => _handle.Value;

    /// <summary>Its size in bytes.</summary>
    public ulong Length { get; }

    /// <summary><paramref name="length"/> bytes of the region from <paramref name="offset"/>.</summary>
    public Span<byte> AsSpan(ulong offset, int length) => AsSpan<byte>(offset, length);

    /// <summary><paramref name="count"/> elements of <typeparamref name="T"/> from <paramref name="byteOffset"/>.</summary>
    public unsafe Span<T> AsSpan<T>(ulong byteOffset, int count)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_handle.IsReleased, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var bytes = (ulong)count * (ulong)sizeof(T);
        if (byteOffset > Length || bytes > Length - byteOffset)
        {
            throw new ArgumentOutOfRangeException(
                nameof(count), $"{bytes} bytes from offset {byteOffset} run past the region's {Length} bytes");
        }

        return new Span<T>((void*)(_address + (nint)byteOffset), count);
    }

    /// <summary>Releases the region on the daemon (which unmaps it once the steps using it have finished), then unmaps it here.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_handle.TryMarkReleased())
        {
            return;
        }

        try
        {
            await _handle.Owner.ReleaseAsync(MessageType.ReleaseRegion, Handle).ConfigureAwait(false);
        }
        finally
        {
            // The daemon has its own mapping, which it keeps until the steps using the region finish.
            PageMappings.Unmap(_address, (nuint)Length);
        }
    }

    internal uint HandleFor(GpuMuxClient client) => _handle.For(client);
}
