namespace GpuMux.Gpu;

public readonly record struct ComputeCapability(int Major, int Minor) : IComparable<ComputeCapability>
{
    /// <summary>The architecture name NVRTC and nvcc use for it, e.g. <c>sm_90</c>.</summary>
    public string SmName => $"sm_{Major}{Minor}";

    public int CompareTo(ComputeCapability other) =>
        Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    public override string ToString() => $"{Major}.{Minor}";
}
