using GpuMux.Protocol.Framing;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// Descriptors received and not yet given to a frame, in arrival order (as Wayland matches them).
/// A stream socket keeps no message boundaries, so a descriptor cannot name its frame; instead the
/// sender passes a frame's descriptors with the frame's first byte, and each batch here remembers
/// the stream range of the recvmsg that brought it. The kernel ends a read with the message that
/// carried descriptors, so a frame's batch is the one whose range covers the frame's first byte.
/// A batch wholly before a frame was announced by nobody; none covering a frame that announces
/// some means they did not come with it (or came later, which is only seen when a later read
/// brought them).
/// </summary>
internal sealed class DescriptorQueue
{
    private readonly Lock _lock = new();
    private readonly Queue<Batch> _batches = new();

    /// <summary>Adds the descriptors one recvmsg brought with stream bytes [start, end).</summary>
    public void Add(long start, long end, ReadOnlySpan<int> descriptors)
    {
        var batch = new Batch(start, end, descriptors.Length);
        descriptors.CopyTo(batch.Descriptors);
        lock (_lock)
        {
            _batches.Enqueue(batch);
        }
    }

    /// <summary>Hands the frame that starts at <paramref name="frameStart"/> its <paramref name="count"/> descriptors.</summary>
    public void TakeFor(long frameStart, int count, Span<int> destination)
    {
        lock (_lock)
        {
            if (_batches.TryPeek(out var head) && head.End <= frameStart)
            {
                throw new FrameFormatException(
                    FrameError.TooManyDescriptors, $"{head.Count} descriptors arrived that no frame announced");
            }

            if (count == 0)
            {
                return;
            }

            if (!_batches.TryPeek(out head) || head.Start > frameStart)
            {
                throw new FrameFormatException(
                    FrameError.MissingDescriptors, $"the frame announces {count} descriptors but none arrived with it");
            }

            if (head.Count != count)
            {
                throw new FrameFormatException(
                    head.Count < count ? FrameError.MissingDescriptors : FrameError.TooManyDescriptors,
                    $"the frame announces {count} descriptors but {head.Count} arrived with it");
            }

            _batches.Dequeue();
            ((ReadOnlySpan<int>)head.Descriptors)[..count].CopyTo(destination);
        }
    }

    /// <summary>Closes every descriptor still waiting for a frame.</summary>
    public void CloseAll()
    {
        lock (_lock)
        {
            while (_batches.TryDequeue(out var batch))
            {
                foreach (var descriptor in ((ReadOnlySpan<int>)batch.Descriptors)[..batch.Count])
                {
                    close(descriptor);
                }
            }
        }
    }

    private struct Batch(long start, long end, int count)
    {
        public readonly long Start = start;
        public readonly long End = end;
        public readonly int Count = count;
        public DescriptorArray Descriptors;
    }
}
