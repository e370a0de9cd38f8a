using System.Text;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Protocol.Tests.Messages;

public sealed class PayloadReaderTests
{
    [Fact]
    public void A_payload_short_of_its_fields_is_malformed()
    {
        var error = Assert.Throws<MalformedPayloadException>(() => Message.Decode<SizeMessage>(new byte[7]));
        Assert.Contains("1 bytes short", error.Message);
    }

    [Fact]
    public void Bytes_after_the_last_field_are_malformed()
    {
        var error = Assert.Throws<MalformedPayloadException>(() => Message.Decode<HandleMessage>(new byte[5]));
        Assert.Contains("1 bytes follow", error.Message);
    }

    [Fact]
    public void A_string_of_invalid_utf8_is_malformed()
    {
        byte[] payload = [0, 0, 0, 0, 2, 0, 0xC3, 0x28];

        Assert.Throws<MalformedPayloadException>(() => Message.Decode<GetFunction>(payload));
    }

    [Fact]
    public void A_boolean_other_than_0_or_1_is_malformed()
    {
        byte[] payload = [1, 0, 0, 0, 2, 0, 0];

        Assert.Throws<MalformedPayloadException>(() => Message.Decode<ModuleLoaded>(payload));
    }

    [Fact]
    public void An_unknown_module_format_is_malformed()
    {
        var buffer = new byte[64];
        var length = Message.Encode(buffer, MessageType.LoadModule, 0, new LoadModule((ModuleFormat)9, 1, "m"));

        Assert.Throws<MalformedPayloadException>(() => Message.Decode<LoadModule>(buffer.AsSpan(FrameHeader.Size, length - FrameHeader.Size)));
    }

    [Fact]
    public void A_long_string_is_cut_at_a_character_boundary()
    {
        var buffer = new byte[256];
        var text = string.Concat(Enumerable.Repeat("é", 200));

        var length = Message.Encode(buffer, MessageType.Error, 0, new ErrorMessage(ErrorCode.Internal, text));
        var decoded = Message.Decode<ErrorMessage>(buffer.AsSpan(FrameHeader.Size, length - FrameHeader.Size));

        Assert.Equal(length, buffer.Length);
        Assert.StartsWith(decoded.Text, text, StringComparison.Ordinal);
        Assert.Equal(decoded.Text.Length * 2, Encoding.UTF8.GetByteCount(decoded.Text));
    }

    [Fact]
    public void A_message_larger_than_the_frame_buffer_is_refused()
    {
        var buffer = new byte[FrameHeader.Size + 4];

        Assert.Throws<InvalidOperationException>(() => Message.Encode(buffer, MessageType.AllocateBuffer, 0, new SizeMessage(1)));
    }
}
