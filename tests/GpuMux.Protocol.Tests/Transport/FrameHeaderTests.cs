using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Tests.Transport;

public sealed class FrameHeaderTests
{
    [Fact]
    public void Fields_are_laid_out_little_endian_as_the_protocol_says()
    {
        var bytes = new byte[FrameHeader.Size];
        new FrameHeader(0x04030201, 0x0605, 3, 0, 0x0C0B0A09).Write(bytes);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 3, 0, 9, 10, 11, 12 }, bytes);
    }

    [Fact]
    public void A_written_header_reads_back_the_same()
    {
        var header = new FrameHeader(65536, 0x8001, 4, 0x80, uint.MaxValue);
        var bytes = new byte[FrameHeader.Size + 3];
        header.Write(bytes);

        Assert.True(FrameHeader.TryRead(bytes, out var read));
        Assert.Equal(header, read);
    }

    [Fact]
    public void Fewer_than_twelve_bytes_are_not_a_header()
    {
        Assert.False(FrameHeader.TryRead(new byte[FrameHeader.Size - 1], out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => default(FrameHeader).Write(new byte[FrameHeader.Size - 1]));
    }
}
