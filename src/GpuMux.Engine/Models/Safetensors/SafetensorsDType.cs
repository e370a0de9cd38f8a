using System.Text;

namespace GpuMux.Engine.Models.Safetensors;

/// <summary>The element types a safetensors header may name; any other "dtype" is rejected.</summary>
public enum SafetensorsDType : byte
{
    Bool,
    U8,
    I8,
    F8E4M3,
    F8E5M2,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    I64,
    U64,
    F64,
}

public static class SafetensorsDTypeExtensions
{
    internal const SafetensorsDType Last = SafetensorsDType.F64;

    extension(SafetensorsDType dtype)
    {
        /// <summary>Bytes per element.</summary>
        public int ElementSize => dtype switch
        {
            SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8
                or SafetensorsDType.F8E4M3 or SafetensorsDType.F8E5M2 => 1,
            SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
            SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
            SafetensorsDType.I64 or SafetensorsDType.U64 or SafetensorsDType.F64 => 8,
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
        };

        /// <summary>The name as written in the header's "dtype" field.</summary>
        public string WireName => dtype switch
        {
            SafetensorsDType.Bool => "BOOL",
            SafetensorsDType.U8 => "U8",
            SafetensorsDType.I8 => "I8",
            SafetensorsDType.F8E4M3 => "F8_E4M3",
            SafetensorsDType.F8E5M2 => "F8_E5M2",
            SafetensorsDType.I16 => "I16",
            SafetensorsDType.U16 => "U16",
            SafetensorsDType.F16 => "F16",
            SafetensorsDType.BF16 => "BF16",
            SafetensorsDType.I32 => "I32",
            SafetensorsDType.U32 => "U32",
            SafetensorsDType.F32 => "F32",
            SafetensorsDType.I64 => "I64",
            SafetensorsDType.U64 => "U64",
            SafetensorsDType.F64 => "F64",
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
        };
    }

    /// <summary>Matches a wire name exactly: the format's names are ASCII and case-sensitive.</summary>
    internal static bool TryParseWireName(ReadOnlySpan<byte> utf8, out SafetensorsDType dtype)
    {
        for (var candidate = SafetensorsDType.Bool; candidate <= Last; candidate++)
        {
            if (Ascii.Equals(utf8, candidate.WireName))
            {
                dtype = candidate;
                return true;
            }
        }

        dtype = default;
        return false;
    }
}
