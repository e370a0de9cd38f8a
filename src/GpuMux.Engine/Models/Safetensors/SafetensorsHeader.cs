namespace GpuMux.Engine.Models.Safetensors;

/// <summary>
/// A validated safetensors header. The data section starts at file offset <see cref="DataOffset"/> (8 + header bytes)
/// and is <see cref="DataBytes"/> long; <see cref="Tensors"/> are in file order and cover it exactly.
/// </summary>
public sealed record SafetensorsHeader(
    ulong HeaderBytes,
    ulong DataOffset,
    ulong DataBytes,
    IReadOnlyList<SafetensorsTensor> Tensors,
    IReadOnlyDictionary<string, string> Metadata);
