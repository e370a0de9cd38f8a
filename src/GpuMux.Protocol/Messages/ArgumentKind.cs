namespace GpuMux.Protocol.Messages;

/// <summary>The tag in front of each launch argument; it fixes the value's size.</summary>
public enum ArgumentKind : byte
{
    Buffer = 1,
    Int32 = 2,
    UInt32 = 3,
    Int64 = 4,
    UInt64 = 5,
    Float32 = 6,
    Float64 = 7,

    /// <summary>A tensor of the step's model, with an offset: passed as a device pointer.</summary>
    Tensor = 8,
}
