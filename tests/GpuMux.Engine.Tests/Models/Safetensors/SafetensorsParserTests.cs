using System.Text;
using GpuMux.Engine.Models.Safetensors;
using static GpuMux.Engine.Tests.Models.Safetensors.SafetensorsTestFile;

namespace GpuMux.Engine.Tests.Models.Safetensors;

public sealed class SafetensorsParserTests
{
    private const ulong MaxHeaderBytes = 16 << 20;

    [Fact]
    public void A_single_tensor_parses_with_its_layout()
    {
        var (json, dataBytes) = Header([("weight", "F32", [2, 3])]);
        var file = Build(json, dataBytes, align: false);

        var header = SafetensorsParser.ParseFile(file, MaxHeaderBytes);

        var tensor = Assert.Single(header.Tensors);
        Assert.Equal(new SafetensorsTensor("weight", SafetensorsDType.F32, tensor.Shape, 0, 24), tensor);
        Assert.Equal([2UL, 3UL], tensor.Shape);
        Assert.Equal(24UL, tensor.ByteLength);
        Assert.Equal((ulong)json.Length, header.HeaderBytes);
        Assert.Equal(8UL + (ulong)json.Length, header.DataOffset);
        Assert.Equal(24UL, header.DataBytes);
        Assert.Empty(header.Metadata);
    }

    [Fact]
    public void A_model_shaped_file_parses_in_file_order_with_its_metadata()
    {
        // Listed out of file order, as the reference writer sorts the JSON keys but lays data out by dtype size.
        var json = Json("""
            {'__metadata__':{'format':'pt','note':'caf\u00e9 \"quoted\"'},
             'lm_head.weight':{'dtype':'BF16','shape':[32,16],'data_offsets':[1152,2176]},
             'model.embed_tokens.weight':{'dtype':'BF16','shape':[32,16],'data_offsets':[128,1152]},
             'model.layers.0.input_layernorm.weight':{'dtype':'F32','shape':[16],'data_offsets':[0,64]},
             'model.norm.weight':{'dtype':'F32','shape':[16],'data_offsets':[64,128]},
             'model.rotary.inv_freq':{'dtype':'F16','shape':[0],'data_offsets':[2176,2176]},
             'step':{'dtype':'I64','shape':[],'data_offsets':[2176,2184]}}
            """);
        var file = Build(json, 2184);

        var header = SafetensorsParser.ParseFile(file, MaxHeaderBytes);

        Assert.Equal(
            ["model.layers.0.input_layernorm.weight", "model.norm.weight", "model.embed_tokens.weight", "lm_head.weight", "model.rotary.inv_freq", "step"],
            header.Tensors.Select(t => t.Name));
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt", ["note"] = "café \"quoted\"" }, header.Metadata);
        Assert.Equal(0UL, header.DataOffset % 8);
        Assert.Equal(2184UL, header.DataBytes);
        var inverseFrequency = header.Tensors[4];
        Assert.Equal((SafetensorsDType.F16, 0UL), (inverseFrequency.DType, inverseFrequency.ByteLength));
        var step = header.Tensors[5];
        Assert.Equal((SafetensorsDType.I64, 0, 8UL), (step.DType, step.Shape.Count, step.ByteLength));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Spaces_after_the_object_are_padding(int padding)
    {
        var (json, dataBytes) = Header([("a", "U8", [3])]);
        var file = Build(Encoding.UTF8.GetBytes(json + new string(' ', padding)), dataBytes);

        Assert.Equal(3UL, Assert.Single(SafetensorsParser.ParseFile(file, MaxHeaderBytes).Tensors).End);
    }

    [Fact]
    public void Files_without_tensors_are_valid()
    {
        Assert.Empty(SafetensorsParser.ParseFile(Build("{}", 0), MaxHeaderBytes).Tensors);
        var withMetadata = SafetensorsParser.ParseFile(Build(Json("{'__metadata__':{}}"), 0), MaxHeaderBytes);
        Assert.Empty(withMetadata.Tensors);
        Assert.Empty(withMetadata.Metadata);
    }

    [Fact]
    public void Fields_may_come_in_any_order_and_be_escaped()
    {
        var json = Json("{'\\u0061':{'data_offsets':[0,4],'sha\\u0070e':[2],'dtype':'\\u0046\\u0031\\u0036'}}");

        var tensor = Assert.Single(SafetensorsParser.ParseFile(Build(json, 4), MaxHeaderBytes).Tensors);

        Assert.Equal(("a", SafetensorsDType.F16), (tensor.Name, tensor.DType));
    }

    [Theory]
    [InlineData("BOOL", SafetensorsDType.Bool, 1)]
    [InlineData("U8", SafetensorsDType.U8, 1)]
    [InlineData("I8", SafetensorsDType.I8, 1)]
    [InlineData("F8_E4M3", SafetensorsDType.F8E4M3, 1)]
    [InlineData("F8_E5M2", SafetensorsDType.F8E5M2, 1)]
    [InlineData("I16", SafetensorsDType.I16, 2)]
    [InlineData("U16", SafetensorsDType.U16, 2)]
    [InlineData("F16", SafetensorsDType.F16, 2)]
    [InlineData("BF16", SafetensorsDType.BF16, 2)]
    [InlineData("I32", SafetensorsDType.I32, 4)]
    [InlineData("U32", SafetensorsDType.U32, 4)]
    [InlineData("F32", SafetensorsDType.F32, 4)]
    [InlineData("I64", SafetensorsDType.I64, 8)]
    [InlineData("U64", SafetensorsDType.U64, 8)]
    [InlineData("F64", SafetensorsDType.F64, 8)]
    public void Every_known_dtype_parses_with_its_size(string wireName, SafetensorsDType dtype, int elementSize)
    {
        var (json, dataBytes) = Header([("t", wireName, [3, 5])]);

        var tensor = Assert.Single(SafetensorsParser.ParseFile(Build(json, dataBytes), MaxHeaderBytes).Tensors);

        Assert.Equal((dtype, 15UL * (ulong)elementSize), (tensor.DType, tensor.ByteLength));
        Assert.Equal((elementSize, wireName), (dtype.ElementSize, dtype.WireName));
    }

    [Fact]
    public void Parse_takes_the_header_out_of_a_larger_buffer()
    {
        var (json, dataBytes) = Header([("a", "I32", [4])]);
        var file = Build(json, dataBytes);

        var header = SafetensorsParser.Parse(file.AsSpan(8), (ulong)file.Length - 8 - (ulong)dataBytes, (ulong)file.Length);

        Assert.Equal(16UL, Assert.Single(header.Tensors).End);
    }

    [Fact]
    public void Read_takes_the_header_from_a_file_on_disk()
    {
        var (json, dataBytes) = Header([("a", "F16", [8, 8]), ("b", "F32", [3])], "{'format':'pt'}".Replace('\'', '"'));
        var file = Build(json, dataBytes);
        using var temp = new TempFile(file);
        using var handle = File.OpenHandle(temp.Path);

        var header = SafetensorsParser.Read(handle, (ulong)file.Length, MaxHeaderBytes);

        Assert.Equal(["a", "b"], header.Tensors.Select(t => t.Name));
        Assert.Equal((128UL, 140UL), (header.Tensors[1].Begin, header.Tensors[1].End));
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(SafetensorsParser.ParseFile(file, MaxHeaderBytes).Tensors, header.Tensors, (x, y) => x.Name == y.Name && x.End == y.End);
    }

    [Fact]
    public void Read_reports_a_file_shorter_than_its_stated_length()
    {
        var (json, dataBytes) = Header([("a", "F16", [8, 8])]);
        var file = Build(json, dataBytes);
        using var temp = new TempFile(file.AsSpan(0, 20).ToArray());
        using var handle = File.OpenHandle(temp.Path);

        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsParser.Read(handle, (ulong)file.Length, MaxHeaderBytes));

        Assert.Contains("file ended at byte 20 while reading the header", error.Message);
    }

    [Fact]
    public void Read_applies_the_header_cap()
    {
        var (json, dataBytes) = Header([("a", "F16", [8, 8])]);
        var file = Build(json, dataBytes);
        using var temp = new TempFile(file);
        using var handle = File.OpenHandle(temp.Path);

        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsParser.Read(handle, (ulong)file.Length, 16));

        Assert.Contains("more than the 16 bytes allowed", error.Message);
    }

    private sealed class TempFile : IDisposable
    {
        public TempFile(byte[] contents)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"gpumux-{Guid.NewGuid():N}.safetensors");
            File.WriteAllBytes(Path, contents);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
