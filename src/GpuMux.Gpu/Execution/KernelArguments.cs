namespace GpuMux.Gpu;

/// <summary>
/// The typed parameter list of one launch, in the kernel's declaration order. Reusable: call
/// <see cref="Clear"/> and fill it again, so a hot loop of launches allocates nothing.
/// </summary>
public sealed class KernelArguments
{
    private KernelArgument[] _items = new KernelArgument[8];

    public int Count { get; private set; }

    public ReadOnlySpan<KernelArgument> Items => _items.AsSpan(0, Count);

    public KernelArgument this[int index] =>
        (uint)index < (uint)Count
            ? _items[index]
            : throw new GpuException(GpuStatus.InvalidValue, $"kernel expects argument {index}, the launch passed {Count}");

    public KernelArguments Clear()
    {
        Count = 0;
        return this;
    }

    public KernelArguments Add(DevicePtr value) => Append(KernelArgumentKind.Pointer, value.Address);

    public KernelArguments Add(int value) => Append(KernelArgumentKind.Int32, (uint)value);

    public KernelArguments Add(uint value) => Append(KernelArgumentKind.UInt32, value);

    public KernelArguments Add(long value) => Append(KernelArgumentKind.Int64, (ulong)value);

    public KernelArguments Add(ulong value) => Append(KernelArgumentKind.UInt64, value);

    public KernelArguments Add(float value) => Append(KernelArgumentKind.Float32, (uint)BitConverter.SingleToInt32Bits(value));

    public KernelArguments Add(double value) => Append(KernelArgumentKind.Float64, (ulong)BitConverter.DoubleToInt64Bits(value));

    private KernelArguments Append(KernelArgumentKind kind, ulong bits)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        _items[Count++] = new KernelArgument(kind, bits);
        return this;
    }
}
