using System.Buffers.Binary;
using GpuMux.Client.Llama;
using GpuMux.Engine.Models.Safetensors;

namespace GpuMux.Llama;

internal static class LlamaDTypes
{
    extension(LlamaDType dtype)
    {
        public SafetensorsDType Safetensors => dtype switch
        {
            LlamaDType.F16 => SafetensorsDType.F16,
            LlamaDType.BF16 => SafetensorsDType.BF16,
            _ => SafetensorsDType.F32,
        };

        public int ElementSize => dtype.Safetensors.ElementSize;

        /// <summary>Rounds each value to nearest (ties to even) and writes it little-endian.</summary>
        public void Narrow(ReadOnlySpan<float> values, Span<byte> destination)
        {
            var size = dtype.ElementSize;
            for (var i = 0; i < values.Length; i++)
            {
                var slot = destination.Slice(i * size, size);
                switch (dtype)
                {
                    case LlamaDType.F16:
                        BinaryPrimitives.WriteHalfLittleEndian(slot, (Half)values[i]);
                        break;
                    case LlamaDType.BF16:
                        BinaryPrimitives.WriteUInt16LittleEndian(slot, BFloat16Bits(values[i]));
                        break;
                    default:
                        BinaryPrimitives.WriteSingleLittleEndian(slot, values[i]);
                        break;
                }
            }
        }

        /// <summary>Widens little-endian elements to f32; exact for every f16 and bf16 value.</summary>
        public void Widen(ReadOnlySpan<byte> source, Span<float> destination)
        {
            var size = dtype.ElementSize;
            for (var i = 0; i < destination.Length; i++)
            {
                var slot = source.Slice(i * size, size);
                destination[i] = dtype switch
                {
                    LlamaDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(slot),
                    LlamaDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(slot) << 16),
                    _ => BinaryPrimitives.ReadSingleLittleEndian(slot),
                };
            }
        }
    }

    public static LlamaDType FromSafetensors(SafetensorsDType dtype, string tensor) => dtype switch
    {
        SafetensorsDType.F16 => LlamaDType.F16,
        SafetensorsDType.BF16 => LlamaDType.BF16,
        SafetensorsDType.F32 => LlamaDType.F32,
        _ => throw new InvalidDataException($"tensor '{tensor}' is {dtype.WireName}; weights must be F16, BF16 or F32"),
    };

    /// <summary>The top 16 bits of an f32, rounded to nearest with ties to even; NaN stays NaN.</summary>
    private static ushort BFloat16Bits(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        var roundingBias = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }
}
