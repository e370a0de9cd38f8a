namespace GpuMux.Robustness.Safetensors;

/// <summary>What a header must get: accepted, refused, or either (a random mutation whose validity nobody worked out).</summary>
internal enum HeaderVerdict
{
    Valid,
    Invalid,
    Either,
}

/// <summary>A tensor a valid file holds: its name and its bytes in the data section.</summary>
internal readonly record struct ExpectedTensor(string Name, ulong Begin, ulong End)
{
    public ulong Bytes => End - Begin;
}

/// <summary>
/// One safetensors file to register: its bytes, what it must get, and for a valid one the tensors
/// it holds (an "either" file that is accepted is checked against its own header instead).
/// </summary>
internal sealed record SafetensorsCase(string Mutation, HeaderVerdict Verdict, byte[] File, IReadOnlyList<ExpectedTensor> Tensors)
{
    public ulong HeaderBytes => BitConverter.ToUInt64(File, 0);

    /// <summary>Where the data section starts, for a file whose length prefix is right.</summary>
    public int DataOffset => 8 + (int)HeaderBytes;
}
