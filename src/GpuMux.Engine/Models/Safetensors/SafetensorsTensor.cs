namespace GpuMux.Engine.Models.Safetensors;

/// <summary>One tensor of a safetensors file; <see cref="Begin"/> and <see cref="End"/> are relative to the data section.</summary>
public sealed record SafetensorsTensor(string Name, SafetensorsDType DType, IReadOnlyList<ulong> Shape, ulong Begin, ulong End)
{
    public ulong ByteLength => End - Begin;
}
