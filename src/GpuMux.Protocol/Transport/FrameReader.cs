using System.Buffers;
using System.IO.Pipelines;
using System.Numerics;
using System.Runtime.CompilerServices;
using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// Cuts the received byte stream into frames and gives each the descriptors that came with it.
/// A payload that lies whole in one pipe segment is handed out in place; any other is copied into
/// one reused buffer as it arrives, so a frame never has to fit in the pipe's back-pressure window.
/// </summary>
internal sealed class FrameReader(PipeReader pipe, DescriptorQueue descriptors, SocketReceiver receiver)
{
    private readonly ReceivedFrame _frame = new();
    private byte[] _copy = [];

    // Stream offset of the first byte not yet consumed: where the next frame starts.
    private long _consumed;

    // The frame handed out last, while its payload still points into the pipe.
    private SequencePosition? _heldEnd;
    private long _heldLength;
    private bool _frameOut;

    // A frame whose payload is being copied out as it arrives.
    private FrameHeader? _partial;
    private int _copied;

    private FrameFormatException? _fault;

    public int MaxPayloadBytes { get; set; }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReceivedFrame?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_fault is not null)
        {
            throw _fault;
        }

        ReleaseFrame();
        while (true)
        {
            var result = await pipe.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                pipe.AdvanceTo(buffer.Start);
                throw ConnectionClosedException.Aborted();
            }

            ReceivedFrame? frame;
            try
            {
                frame = _partial is { } header ? ContinueCopy(header, buffer) : Take(buffer);
            }
            catch (FrameFormatException e)
            {
                _fault = e;
                throw;
            }

            if (frame is not null)
            {
                return frame;
            }

            if (result.IsCompleted)
            {
                if (receiver.Failure is { } failure)
                {
                    throw failure;
                }

                if (_partial is not null || !buffer.IsEmpty)
                {
                    _fault = new FrameFormatException(FrameError.Truncated, "the peer closed the connection in the middle of a frame");
                    throw _fault;
                }

                return null;
            }
        }
    }

    /// <summary>Closes what the last frame still holds and gives its bytes back to the pipe, for good.</summary>
    public void Close()
    {
        _frame.Release();
        pipe.Complete();
    }

    private ReceivedFrame? Take(ReadOnlySequence<byte> buffer)
    {
        if (!TryReadHeader(buffer, out var header))
        {
            pipe.AdvanceTo(buffer.Start, buffer.End);
            return null;
        }

        Check(header);
        var taken = new DescriptorArray();
        var held = ((Span<int>)taken)[..header.DescriptorCount];
        descriptors.TakeFor(_consumed, header.DescriptorCount, held);
        _frame.HoldDescriptors(held);

        var payloadLength = (int)header.PayloadLength;
        var frameLength = FrameHeader.Size + (long)payloadLength;
        var payload = buffer.Slice(FrameHeader.Size);
        if (payload.Length >= payloadLength)
        {
            payload = payload.Slice(0, payloadLength);
            if (payload.IsSingleSegment)
            {
                _heldEnd = payload.End;
                _heldLength = frameLength;
                return Deliver(header, payload.First);
            }

            payload.CopyTo(CopyBuffer(payloadLength));
            Consume(payload.End, frameLength);
            return Deliver(header, _copy.AsMemory(0, payloadLength));
        }

        payload.CopyTo(CopyBuffer(payloadLength));
        _partial = header;
        _copied = (int)payload.Length;
        Consume(buffer.End, buffer.Length);
        return null;
    }

    private ReceivedFrame? ContinueCopy(FrameHeader header, ReadOnlySequence<byte> buffer)
    {
        var arrived = buffer.Slice(0, Math.Min(buffer.Length, header.PayloadLength - _copied));
        arrived.CopyTo(_copy.AsSpan(_copied));
        _copied += (int)arrived.Length;
        Consume(arrived.End, arrived.Length);
        if (_copied < header.PayloadLength)
        {
            return null;
        }

        _partial = null;
        return Deliver(header, _copy.AsMemory(0, _copied));
    }

    private ReceivedFrame Deliver(FrameHeader header, ReadOnlyMemory<byte> payload)
    {
        _frame.Complete(header, payload);
        _frameOut = true;
        return _frame;
    }

    private void ReleaseFrame()
    {
        if (_heldEnd is { } end)
        {
            Consume(end, _heldLength);
            _heldEnd = null;
        }

        if (_frameOut)
        {
            _frame.Release();
            _frameOut = false;
        }
    }

    private void Consume(SequencePosition position, long length)
    {
        pipe.AdvanceTo(position);
        _consumed += length;
    }

    private void Check(FrameHeader header)
    {
        if (header.Flags != 0)
        {
            throw new FrameFormatException(FrameError.BadFlags, $"frame flags must be 0, not 0x{header.Flags:x2}");
        }

        if (header.DescriptorCount > FrameHeader.MaxDescriptors)
        {
            throw new FrameFormatException(
                FrameError.TooManyDescriptors,
                $"a frame carries at most {FrameHeader.MaxDescriptors} descriptors, not {header.DescriptorCount}");
        }

        if (header.PayloadLength > (uint)MaxPayloadBytes)
        {
            throw new FrameFormatException(
                FrameError.TooLarge, $"a {header.PayloadLength}-byte payload is over the {MaxPayloadBytes}-byte limit");
        }
    }

    private Span<byte> CopyBuffer(int length)
    {
        if (_copy.Length < length)
        {
            _copy = new byte[Math.Min((uint)Array.MaxLength, BitOperations.RoundUpToPowerOf2((uint)length))];
        }

        return _copy;
    }

    private static bool TryReadHeader(ReadOnlySequence<byte> buffer, out FrameHeader header)
    {
        if (buffer.FirstSpan.Length >= FrameHeader.Size || buffer.Length < FrameHeader.Size)
        {
            return FrameHeader.TryRead(buffer.FirstSpan, out header);
        }

        Span<byte> bytes = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(bytes);
        return FrameHeader.TryRead(bytes, out header);
    }
}
