using System.Buffers.Binary;
using GpuMux.Protocol;

namespace GpuMux.Robustness.Fuzzing;

/// <summary>A request after a mutation: its type, its payload and what was done to it, for a note.</summary>
internal sealed record MutatedFrame(ushort Type, byte[] Payload, string Description, uint? StatedLength = null);

/// <summary>The mutations of <see cref="FuzzFamily.Fields"/>, <see cref="FuzzFamily.Counts"/>, <see cref="FuzzFamily.Types"/> and <see cref="FuzzFamily.Lengths"/>.</summary>
internal static class FrameMutator
{
    /// <summary>A length over any limit the daemon may have: answered FrameTooLarge, unread.</summary>
    private const uint HugeLength = 1u << 30;

    public static MutatedFrame Mutate(FuzzFamily family, FrameTemplate template, Random random) => family switch
    {
        FuzzFamily.Fields => Fields(template, random, template.Fields),
        FuzzFamily.Counts => Fields(template, random, [.. template.Fields.Where(field => field.Role == FieldRole.Count)]),
        FuzzFamily.Types => Types(template, random),
        FuzzFamily.Lengths => Lengths(template, random),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "not a frame mutation"),
    };

    private static MutatedFrame Fields(FrameTemplate template, Random random, IReadOnlyList<Field> candidates)
    {
        var payload = template.Payload.ToArray();
        if (candidates.Count == 0)
        {
            return new MutatedFrame((ushort)template.Type, payload, $"{template.Type} unchanged (no field to aim at)");
        }

        var changes = new List<string>();
        for (var count = random.Next(1, 4); count > 0; count--)
        {
            var field = candidates[random.Next(candidates.Count)];
            var slot = payload.AsSpan(field.Offset, field.Width);
            var before = Read(slot);
            var after = EdgeValue(field, before, random);
            Write(slot, after);
            changes.Add($"@{field.Offset}/{field.Width} {field.Role} {before}->{after}");
        }

        return new MutatedFrame((ushort)template.Type, payload, $"{template.Type} {string.Join(", ", changes)}");
    }

    private static MutatedFrame Types(FrameTemplate template, Random random)
    {
        var kinds = template.Fields.Where(field => field.Role == FieldRole.Kind).ToArray();
        if (kinds.Length > 0 && random.Next(2) == 0)
        {
            var payload = template.Payload.ToArray();
            var field = kinds[random.Next(kinds.Length)];
            var value = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)random.Next(10);
            var before = payload[field.Offset];
            payload[field.Offset] = value;
            return new MutatedFrame((ushort)template.Type, payload, $"{template.Type} kind @{field.Offset} {before}->{value}");
        }

        ushort type = random.Next(4) switch
        {
            0 => (ushort)random.Next(0x10000),
            1 => (ushort)random.Next(0x20),
            2 => (ushort)(0x8000 | random.Next(0x20)),
            _ => (ushort)Enum.GetValues<MessageType>()[random.Next(Enum.GetValues<MessageType>().Length)],
        };
        return new MutatedFrame(type, template.Payload.ToArray(), $"{template.Type} sent as type 0x{type:x4}");
    }

    private static MutatedFrame Lengths(FrameTemplate template, Random random)
    {
        var payload = template.Payload;
        switch (random.Next(8))
        {
            case 0:
                return new MutatedFrame((ushort)template.Type, [], $"{template.Type} announcing {HugeLength} bytes", HugeLength);
            case 1 or 2 or 3 when payload.Length > 0:
                var kept = random.Next(payload.Length);
                return new MutatedFrame((ushort)template.Type, payload[..kept], $"{template.Type} cut to {kept} of {payload.Length} bytes");
            default:
                var extra = new byte[random.Next(1, 65)];
                random.NextBytes(extra);
                return new MutatedFrame((ushort)template.Type, [.. payload, .. extra], $"{template.Type} with {extra.Length} bytes more");
        }
    }

    /// <summary>Edges: zero, one, the sign bit, the maximum and its neighbours, sizes around powers of two, a random value, a flipped bit.</summary>
    private static ulong EdgeValue(Field field, ulong original, Random random)
    {
        var max = field.Width == 8 ? ulong.MaxValue : (1UL << (8 * field.Width)) - 1;
        var sign = 1UL << ((8 * field.Width) - 1);
        var value = random.Next(14) switch
        {
            0 => 0UL,
            1 => 1UL,
            2 => max,
            3 => max - 1,
            4 => sign,
            5 => sign - 1,
            6 => original + (ulong)random.Next(1, 4),
            7 => original - (ulong)random.Next(1, 4),
            8 => 1UL << random.Next(8 * field.Width),
            9 => (1UL << random.Next(8 * field.Width)) - 1,
            10 => original ^ (1UL << random.Next(8 * field.Width)),
            11 when field.Width == 8 => 922_337_203_685_477_581UL * (ulong)random.Next(1, 11),
            12 when field.Role == FieldRole.Handle => (ulong)random.Next(0, 32),
            _ => (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1),
        };
        return value & max;
    }

    private static ulong Read(ReadOnlySpan<byte> slot) => slot.Length switch
    {
        1 => slot[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(slot),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(slot),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(slot),
    };

    private static void Write(Span<byte> slot, ulong value)
    {
        switch (slot.Length)
        {
            case 1:
                slot[0] = (byte)value;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(slot, (ushort)value);
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(slot, (uint)value);
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(slot, value);
                break;
        }
    }
}
