using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Tests.Transport;

internal static class TestFrames
{
    public static byte[] Encode(ushort type, uint requestId, ReadOnlySpan<byte> payload, byte descriptorCount = 0, byte flags = 0)
    {
        var frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader((uint)payload.Length, type, descriptorCount, flags, requestId).Write(frame);
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        return frame;
    }

    /// <summary>A payload whose bytes depend on <paramref name="seed"/> and their position, so a torn or shifted one shows.</summary>
    public static byte[] Payload(int length, int seed)
    {
        var payload = new byte[length];
        for (var i = 0; i < length; i++)
        {
            payload[i] = (byte)((i * 31) + (seed * 17) + (i >> 8));
        }

        return payload;
    }
}
