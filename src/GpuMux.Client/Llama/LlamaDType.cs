namespace GpuMux.Client.Llama;

/// <summary>The element types a checkpoint's weights may have.</summary>
public enum LlamaDType
{
    /// <summary>IEEE 754 binary16.</summary>
    F16,

    /// <summary>bfloat16: the top 16 bits of a binary32.</summary>
    BF16,

    /// <summary>IEEE 754 binary32.</summary>
    F32,
}

/// <summary>The names Hugging Face's <c>torch_dtype</c> gives the element types.</summary>
public static class LlamaDTypeNames
{
    /// <summary>The <c>torch_dtype</c> of <paramref name="dtype"/>: float16, bfloat16 or float32.</summary>
    public static string TorchName(this LlamaDType dtype) => dtype switch
    {
        LlamaDType.F16 => "float16",
        LlamaDType.BF16 => "bfloat16",
        _ => "float32",
    };

    /// <summary>The element type a <c>torch_dtype</c> names.</summary>
    /// <exception cref="InvalidDataException">It is none of float16, bfloat16, float32.</exception>
    public static LlamaDType FromTorchName(string? name) => name switch
    {
        "float16" => LlamaDType.F16,
        "bfloat16" => LlamaDType.BF16,
        "float32" => LlamaDType.F32,
        _ => throw new InvalidDataException($"torch_dtype '{name}' is not one of float16, bfloat16, float32"),
    };
}
