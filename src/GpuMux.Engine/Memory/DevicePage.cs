namespace GpuMux.Engine.Memory;

/// <summary>One page of a <see cref="DevicePagePool"/>: which slab it lies in, and where.</summary>
internal readonly record struct DevicePage(int Slab, ulong Offset);
