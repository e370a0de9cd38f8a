using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace GpuMux.Robustness.Safetensors;

/// <summary>
/// Safetensors files made valid by construction (random tensors laid out back to back, in any key
/// order, with and without metadata, escapes and padding), made invalid by one deliberate fault
/// (an overlap, a hole, a size that does not match the shape, an unknown dtype, offsets past the
/// end, a wrong length prefix, malformed JSON, ...), or mutated byte by byte at random, whose
/// validity is left to be seen.
/// </summary>
internal sealed class SafetensorsCases(int seed)
{
    private static readonly (string Name, int Size)[] DTypes =
    [
        ("BOOL", 1), ("U8", 1), ("I8", 1), ("F8_E4M3", 1), ("F8_E5M2", 1), ("I16", 2), ("U16", 2), ("F16", 2),
        ("BF16", 2), ("I32", 4), ("U32", 4), ("F32", 4), ("I64", 8), ("U64", 8), ("F64", 8),
    ];

    private static readonly string[] UnknownDTypes = ["F4", "Q8", "f32", "FLOAT", "", "F32 ", "I128"];
    private static readonly string[] BadDimensions = ["-1", "1.5", "\"2\"", "01", "1e2", "null", "18446744073709551616", "[]"];
    private static readonly byte[] Structural = "{}[]\":,0123456789 -.eE\\"u8.ToArray();

    private readonly Random _random = new(seed);
    private int _made;

    public SafetensorsCase Next()
    {
        _made++;
        var model = RandomModel();
        return _random.Next(10) switch
        {
            < 4 => Valid(model),
            < 7 => Invalid(model),
            _ => Mutated(model),
        };
    }

    private SafetensorsCase Valid(Model model) =>
        new("valid", HeaderVerdict.Valid, model.Build(_random), [.. model.Entries.Select(e => new ExpectedTensor(e.Name, e.Begin, e.End))]);

    private SafetensorsCase Invalid(Model model)
    {
        var sized = model.Entries.Where(entry => entry.End > entry.Begin).ToList();
        var fault = _random.Next(16);
        if (sized.Count == 0 && fault < 7)
        {
            // The faults of sizes and offsets need a tensor with bytes.
            fault = 7 + _random.Next(9);
        }

        var target = sized.Count == 0 ? null : sized[_random.Next(sized.Count)];
        string mutation;
        byte[]? file = null;
        switch (fault)
        {
            case 0:
                model.Entries.Add(new HeaderEntry { NameJson = "overlap", Name = "overlap", DType = target!.DType, Shape = [.. target.Shape], Begin = target.Begin, End = target.End });
                mutation = "a second tensor over another's bytes";
                break;
            case 1:
                model.ExtraData = _random.Next(1, 9);
                mutation = "bytes after the last tensor";
                break;
            case 2:
                var shift = (ulong)_random.Next(1, 9);
                foreach (var entry in model.Entries.Where(entry => entry.Begin >= target!.Begin))
                {
                    entry.Begin += shift;
                    entry.End += shift;
                }

                model.DataBytes += shift;
                mutation = "a hole before a tensor";
                break;
            case 3:
                if (target!.Shape.Count == 0)
                {
                    target.Shape.Add("2");
                }
                else
                {
                    var dim = _random.Next(target.Shape.Count);
                    target.Shape[dim] = (ulong.Parse(target.Shape[dim], CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
                }

                mutation = "a shape that does not match the offsets";
                break;
            case 4:
                var last = model.Entries.MaxBy(entry => entry.End)!;
                last.End += (ulong)_random.Next(1, 9);
                mutation = "offsets past the end of the data";
                break;
            case 5:
                (target!.Begin, target.End) = (target.End, target.Begin);
                mutation = "begin after end";
                break;
            case 6:
                target!.OffsetsText = _random.Next(2) == 0 ? [target.Begin.ToString(CultureInfo.InvariantCulture)] : [target.Begin.ToString(CultureInfo.InvariantCulture), target.End.ToString(CultureInfo.InvariantCulture), "0"];
                mutation = "data_offsets of the wrong length";
                break;
            case 7 when model.Entries.Count > 0:
                model.Entries[_random.Next(model.Entries.Count)].DType = UnknownDTypes[_random.Next(UnknownDTypes.Length)];
                mutation = "an unknown dtype";
                break;
            case 8 when model.Entries.Count > 0:
                var withShape = model.Entries[_random.Next(model.Entries.Count)];
                withShape.Shape.Insert(_random.Next(withShape.Shape.Count + 1), BadDimensions[_random.Next(BadDimensions.Length)]);
                mutation = "a dimension that is not a non-negative integer";
                break;
            case 9 when model.Entries.Count > 0:
                var missing = model.Entries[_random.Next(model.Entries.Count)];
                missing.FieldOrder.RemoveAt(_random.Next(missing.FieldOrder.Count));
                mutation = "a tensor missing a field";
                break;
            case 10:
                model.MetadataJson = "{\"format\":1}";
                mutation = "metadata with a value that is not a string";
                break;
            case 11:
                file = model.Build(_random);
                var prefix = _random.Next(4) switch
                {
                    0 => 0UL,
                    1 => ulong.MaxValue,
                    2 => (ulong)(file.Length - 8 + _random.Next(1, 100)),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(file) + (_random.Next(2) == 0 ? 1UL : unchecked((ulong)-1L)),
                };
                BinaryPrimitives.WriteUInt64LittleEndian(file, prefix);
                mutation = "a wrong length prefix";
                break;
            case 12:
                model.Cut = true;
                mutation = "JSON cut before its end";
                break;
            case 13:
                model.Trailing = _random.Next(2) == 0 ? "x" : "{}";
                mutation = "bytes after the JSON object";
                break;
            case 14:
                model.NotUtf8 = true;
                mutation = "a header that is not UTF-8";
                break;
            default:
                model.TopLevelArray = true;
                mutation = "a header that is not an object";
                break;
        }

        return new SafetensorsCase(mutation, HeaderVerdict.Invalid, file ?? model.Build(_random), []);
    }

    private SafetensorsCase Mutated(Model model)
    {
        var file = model.Build(_random);
        var headerBytes = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = new List<byte>(file[8..(8 + headerBytes)]);
        var data = file[(8 + headerBytes)..];
        for (var count = _random.Next(1, 4); count > 0; count--)
        {
            var at = header.Count == 0 ? 0 : _random.Next(header.Count);
            switch (_random.Next(6))
            {
                case 0 when header.Count > 0:
                    header[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1 when header.Count > 0:
                    header[at] = Structural[_random.Next(Structural.Length)];
                    break;
                case 2:
                    header.Insert(at, _random.Next(2) == 0 ? (byte)_random.Next(256) : Structural[_random.Next(Structural.Length)]);
                    break;
                case 3 when header.Count > 0:
                    header.RemoveRange(at, Math.Min(_random.Next(1, 5), header.Count - at));
                    break;
                case 4 when header.Count > 0:
                    var start = _random.Next(header.Count);
                    header.InsertRange(at, header.GetRange(start, Math.Min(_random.Next(1, 40), header.Count - start)));
                    break;
                default:
                    var digit = header.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0)
                    {
                        header[digit] = (byte)('0' + _random.Next(10));
                    }

                    break;
            }
        }

        var mutated = new byte[8 + header.Count + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(mutated, (ulong)header.Count);
        header.CopyTo(mutated, 8);
        data.CopyTo(mutated, 8 + header.Count);
        return new SafetensorsCase("mutated at random", HeaderVerdict.Either, mutated, []);
    }

    /// <summary>Up to 8 tensors of random dtypes and small shapes (some empty), laid out back to back in a random order.</summary>
    private Model RandomModel()
    {
        var count = _random.Next(20) == 0 ? 0 : _random.Next(1, 9);
        var entries = new List<HeaderEntry>();
        for (var i = 0; i < count; i++)
        {
            var (dtype, size) = DTypes[_random.Next(DTypes.Length)];
            var shape = Enumerable.Range(0, _random.Next(0, 4)).Select(_ => (ulong)(_random.Next(12) == 0 ? 0 : _random.Next(1, 6))).ToList();
            var (nameJson, name) = Name(i);
            entries.Add(new HeaderEntry
            {
                NameJson = nameJson,
                Name = name,
                DType = dtype,
                Shape = [.. shape.Select(d => d.ToString(CultureInfo.InvariantCulture))],
                Begin = 0,
                End = shape.Aggregate(1UL, (product, d) => product * d) * (ulong)size,
            });
        }

        // The data section's order is its own: not the header's.
        var offset = 0UL;
        foreach (var entry in entries.OrderBy(_ => _random.Next()))
        {
            var bytes = entry.End;
            entry.Begin = offset;
            entry.End = offset + bytes;
            offset += bytes;
        }

        foreach (var entry in entries.Where(_ => _random.Next(4) == 0))
        {
            entry.FieldOrder = [.. entry.FieldOrder.OrderBy(_ => _random.Next())];
        }

        return new Model(entries, offset, _random.Next(3) == 0 ? "{\"format\":\"pt\",\"source\":\"robustness\"}" : null);
    }

    // Mostly plain names; some written with escapes the reader must decode.
    private (string Json, string Name) Name(int index) => _random.Next(6) switch
    {
        0 => ($"model.layers.{index}.w\\u00e9ight", $"model.layers.{index}.wéight"),
        1 => ($"block\\/{index}", $"block/{index}"),
        2 => ($"q\\\"{index}", $"q\"{index}"),
        _ => ($"model.layers.{index}.weight.{_made}", $"model.layers.{index}.weight.{_made}"),
    };

    /// <summary>A header being built, with the faults that live outside its entries.</summary>
    private sealed class Model(List<HeaderEntry> entries, ulong dataBytes, string? metadataJson)
    {
        public List<HeaderEntry> Entries { get; } = entries;

        public ulong DataBytes { get; set; } = dataBytes;

        public string? MetadataJson { get; set; } = metadataJson;

        public int ExtraData { get; set; }

        public bool Cut { get; set; }

        public string? Trailing { get; set; }

        public bool NotUtf8 { get; set; }

        public bool TopLevelArray { get; set; }

        public byte[] Build(Random random)
        {
            var space = random.Next(4) == 0 ? " " : "";
            var items = Entries.Select(entry => entry.Render(space)).ToList();
            if (MetadataJson is not null)
            {
                items.Insert(random.Next(items.Count + 1), $"\"__metadata__\":{space}{MetadataJson}");
            }

            var json = TopLevelArray ? "[]" : $"{{{string.Join($",{space}", items)}}}";
            if (Cut)
            {
                json = json[..random.Next(1, json.Length)];
            }

            json += Trailing ?? "";
            var header = new List<byte>(Encoding.UTF8.GetBytes(json));
            if (NotUtf8)
            {
                header.Insert(random.Next(1, header.Count), 0xFF);
            }

            // The reference writer pads the header with spaces to a multiple of 8; not every writer does.
            while (random.Next(3) != 0 && header.Count % 8 != 0)
            {
                header.Add((byte)' ');
            }

            var data = new byte[DataBytes + (ulong)ExtraData];
            random.NextBytes(data);
            var file = new byte[8 + header.Count + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Count);
            header.CopyTo(file, 8);
            data.CopyTo(file, 8 + header.Count);
            return file;
        }
    }
}
