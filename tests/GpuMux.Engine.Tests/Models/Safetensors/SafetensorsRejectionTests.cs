using System.Buffers.Binary;
using GpuMux.Engine.Models.Safetensors;
using static GpuMux.Engine.Tests.Models.Safetensors.SafetensorsTestFile;

namespace GpuMux.Engine.Tests.Models.Safetensors;

public sealed class SafetensorsRejectionTests
{
    private const ulong MaxHeaderBytes = 1 << 20;

    [Theory]
    // Not JSON, or not one object.
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets':[0,1],}}", 1, "header is not valid JSON")]
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets'", 1, "header is not valid JSON")]
    [InlineData("{'a' 1}", 0, "header is not valid JSON")]
    [InlineData("[{}]", 0, "header must start with '{' but starts with '['")]
    [InlineData(" {}", 0, "header must start with '{' but starts with byte 0x20")]
    [InlineData("{} x", 0, "header has 'x' at header offset 3, after the JSON object; only whitespace padding may follow it")]
    [InlineData("{}{}", 0, "header has '{' at header offset 2, after the JSON object")]
    [InlineData("{}\0", 0, "header has byte 0x00 at header offset 2")]
    // Names.
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets':[0,1]},'a':{'dtype':'U8','shape':[1],'data_offsets':[1,2]}}", 2, "header has tensor 'a' twice")]
    [InlineData("{'':{'dtype':'U8','shape':[1],'data_offsets':[0,1]}}", 1, "header has a tensor with an empty name")]
    [InlineData("{'\\ud800':{'dtype':'U8','shape':[1],'data_offsets':[0,1]}}", 1, "header has a string at header offset 1 that is not valid text")]
    // Fields.
    [InlineData("{'a':{'dtype':'U8','data_offsets':[0,1]}}", 1, "tensor 'a' has no \"shape\"; every tensor needs dtype, shape and data_offsets")]
    [InlineData("{'a':{'shape':[1],'data_offsets':[0,1]}}", 1, "tensor 'a' has no \"dtype\"")]
    [InlineData("{'a':{'dtype':'U8','shape':[1]}}", 1, "tensor 'a' has no \"data_offsets\"")]
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets':[0,1],'offset':0}}", 1, "tensor 'a' has unexpected field 'offset'")]
    [InlineData("{'a':{'dtype':'U8','dtype':'U8','shape':[1],'data_offsets':[0,1]}}", 1, "tensor 'a' has \"dtype\" twice")]
    [InlineData("{'a':1}", 0, "tensor 'a' is a number; it must be an object")]
    [InlineData("{'a':null}", 0, "tensor 'a' is null; it must be an object")]
    [InlineData("{'a':{'dtype':8,'shape':[1],'data_offsets':[0,1]}}", 1, "tensor 'a' has a dtype that is a number; it must be a string")]
    [InlineData("{'a':{'dtype':'U8','shape':'1','data_offsets':[0,1]}}", 1, "tensor 'a' has a shape that is a string; it must be an array")]
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets':{}}}", 1, "tensor 'a' has data_offsets that are an object; they must be an array")]
    [InlineData("{'a':{'dtype':'U8','shape':['1'],'data_offsets':[0,1]}}", 1, "tensor 'a' shape[0] is a string; it must be a non-negative integer")]
    [InlineData("{'a':{'dtype':'U8','shape':[[1]],'data_offsets':[0,1]}}", 1, "tensor 'a' shape[0] is an array")]
    // Unknown dtypes.
    [InlineData("{'a':{'dtype':'F4','shape':[2],'data_offsets':[0,1]}}", 1, "tensor 'a' has unknown dtype 'F4'; known dtypes are BOOL, U8, I8, F8_E4M3")]
    [InlineData("{'a':{'dtype':'Q8','shape':[1],'data_offsets':[0,1]}}", 1, "tensor 'a' has unknown dtype 'Q8'")]
    [InlineData("{'a':{'dtype':'f32','shape':[1],'data_offsets':[0,4]}}", 4, "tensor 'a' has unknown dtype 'f32'")]
    // Absurd numbers.
    [InlineData("{'a':{'dtype':'U8','shape':[-1],'data_offsets':[0,1]}}", 1, "tensor 'a' shape[0] is -1; it must be a non-negative integer below 2^64")]
    [InlineData("{'a':{'dtype':'U8','shape':[1,1.5],'data_offsets':[0,1]}}", 1, "tensor 'a' shape[1] is 1.5")]
    [InlineData("{'a':{'dtype':'U8','shape':[1e30],'data_offsets':[0,1]}}", 1, "tensor 'a' shape[0] is 1e30")]
    [InlineData("{'a':{'dtype':'U8','shape':[1.0],'data_offsets':[0,1]}}", 1, "tensor 'a' shape[0] is 1.0")]
    [InlineData("{'a':{'dtype':'U8','shape':[-0],'data_offsets':[0,0]}}", 0, "tensor 'a' shape[0] is -0")]
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets':[0,18446744073709551616]}}", 1, "tensor 'a' data_offsets[1] is 18446744073709551616")]
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets':[0,1e400]}}", 1, "tensor 'a' data_offsets[1] is 1e400")]
    [InlineData("{'a':{'dtype':'U8','shape':[4294967296,4294967296],'data_offsets':[0,1]}}", 1, "tensor 'a' has shape [4294967296, 4294967296], whose element count overflows 64 bits")]
    [InlineData("{'a':{'dtype':'F64','shape':[4611686018427387904],'data_offsets':[0,1]}}", 1, "tensor 'a' has 4611686018427387904 elements of F64, more than 2^64 bytes")]
    // Offsets.
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets':[0,1,2]}}", 1, "tensor 'a' has more than two data_offsets")]
    [InlineData("{'a':{'dtype':'U8','shape':[1],'data_offsets':[1]}}", 1, "tensor 'a' has 1 data_offsets; they must be exactly [begin, end]")]
    [InlineData("{'a':{'dtype':'U8','shape':[0],'data_offsets':[]}}", 0, "tensor 'a' has 0 data_offsets")]
    [InlineData("{'a':{'dtype':'U8','shape':[4],'data_offsets':[8,4]}}", 8, "tensor 'a' has data_offsets [8, 4]: begin is after end")]
    [InlineData("{'a':{'dtype':'F32','shape':[2,2],'data_offsets':[0,12]}}", 12, "tensor 'a' is F32 with shape [2, 2], so 16 bytes, but its data_offsets [0, 12] span 12 bytes")]
    [InlineData("{'a':{'dtype':'F32','shape':[4],'data_offsets':[0,16]}}", 8, "tensor 'a' has data_offsets [0, 16], past the end of the 8-byte data section; the file is truncated")]
    [InlineData("{'a':{'dtype':'U8','shape':[16],'data_offsets':[0,16]},'b':{'dtype':'U8','shape':[16],'data_offsets':[8,24]}}", 24, "tensor 'b' at [8, 24) overlaps tensor 'a' at [0, 16)")]
    [InlineData("{'a':{'dtype':'U8','shape':[16],'data_offsets':[0,16]},'z':{'dtype':'U8','shape':[0],'data_offsets':[4,4]}}", 16, "tensor 'z' at [4, 4) overlaps tensor 'a' at [0, 16)")]
    [InlineData("{'a':{'dtype':'U8','shape':[8],'data_offsets':[0,8]},'b':{'dtype':'U8','shape':[8],'data_offsets':[16,24]}}", 24, "bytes [8, 16) of the data section, before tensor 'b', belong to no tensor; the safetensors format requires the tensors to cover the data section with no holes")]
    [InlineData("{'a':{'dtype':'U8','shape':[8],'data_offsets':[8,16]}}", 16, "bytes [0, 8) of the data section, before tensor 'a', belong to no tensor")]
    [InlineData("{'a':{'dtype':'U8','shape':[8],'data_offsets':[0,8]}}", 16, "bytes [8, 16) at the end of the data section belong to no tensor; the safetensors format requires")]
    [InlineData("{}", 4, "bytes [0, 4) at the end of the data section belong to no tensor")]
    // Metadata.
    [InlineData("{'__metadata__':'pt'}", 0, "\"__metadata__\" is a string; it must be an object mapping strings to strings")]
    [InlineData("{'__metadata__':null}", 0, "\"__metadata__\" is null")]
    [InlineData("{'__metadata__':{'format':1}}", 0, "\"__metadata__\" entry 'format' is a number; metadata values must be strings")]
    [InlineData("{'__metadata__':{'format':{}}}", 0, "\"__metadata__\" entry 'format' is an object")]
    [InlineData("{'__metadata__':{'k':'a','k':'b'}}", 0, "\"__metadata__\" has key 'k' twice")]
    [InlineData("{'__metadata__':{},'__metadata__':{}}", 0, "header has \"__metadata__\" twice")]
    public void Malformed_headers_are_rejected_naming_the_problem(string singleQuotedJson, int dataBytes, string expected)
    {
        var file = Build(Json(singleQuotedJson), dataBytes, align: false);

        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsParser.ParseFile(file, MaxHeaderBytes));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_file_shorter_than_the_length_prefix_is_rejected()
    {
        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsParser.ParseFile(new byte[5], MaxHeaderBytes));

        Assert.Equal("file is 5 bytes, too short for the 8-byte header length a safetensors file starts with", error.Message);
    }

    [Theory]
    [InlineData(0UL, "header length is 0")]
    [InlineData(MaxHeaderBytes + 1, "header length is 1048577 bytes, more than the 1048576 bytes allowed")]
    [InlineData(3UL, "header is not valid JSON")]
    [InlineData(11UL, "header length is 11 bytes but the file has only 10 bytes after the length prefix; the file is truncated or not safetensors")]
    [InlineData(ulong.MaxValue, "more than the 1048576 bytes allowed")]
    public void Header_lengths_are_checked_against_the_cap_and_the_file(ulong headerBytes, string expected)
    {
        var file = Build("{\"a\": 1}  "u8, 0, headerBytes);

        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsParser.ParseFile(file, MaxHeaderBytes));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Parse_reports_a_header_cut_short_in_memory()
    {
        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsParser.Parse("{}"u8, 16, 100));

        Assert.Equal("header is truncated: its length prefix says 16 bytes but only 2 are present", error.Message);
    }

    [Fact]
    public void A_header_that_is_not_utf8_is_rejected()
    {
        byte[] json = [.. "{\"a\""u8, 0xC3, 0x28, .. ":1}"u8];

        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsParser.ParseFile(Build(json, 0), MaxHeaderBytes));

        Assert.Equal("header is not valid UTF-8 (first bad byte at header offset 4)", error.Message);
    }

    [Fact]
    public void The_length_prefix_is_little_endian()
    {
        var file = Build("{}"u8, 0);
        BinaryPrimitives.WriteUInt64BigEndian(file, 2);

        Assert.Throws<SafetensorsFormatException>(() => SafetensorsParser.ParseFile(file, MaxHeaderBytes));
    }
}
