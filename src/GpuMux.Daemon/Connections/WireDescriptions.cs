using GpuMux.Engine;
using GpuMux.Gpu;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Connections;

/// <summary>The engine's view of the device and its sessions, in wire form.</summary>
internal static class WireDescriptions
{
    public static BackendKind ToWire(this GpuBackendKind kind) => kind == GpuBackendKind.Cuda ? BackendKind.Cuda : BackendKind.Sim;

    public static DeviceDescription ToWire(this GpuDeviceInfo device) => new(
        (ushort)device.Ordinal,
        device.Name,
        device.TotalMemoryBytes,
        (byte)device.ComputeCapability.Major,
        (byte)device.ComputeCapability.Minor,
        (ushort)device.MultiprocessorCount,
        device.PciBusId);

    public static SessionEntry ToWire(this SessionStatus session) => new(
        (ulong)session.Id,
        session.Identity.Uid,
        session.Identity.Gid,
        session.Identity.Pid,
        session.Identity.ClientName,
        session.ConnectedAt.ToUnixTimeMilliseconds(),
        (uint)session.Buffers,
        session.BufferBytes,
        (uint)session.Regions,
        session.RegionBytes,
        (uint)session.Modules,
        (uint)session.StepsQueued,
        (uint)session.StepsRunning,
        (ulong)session.StepsCompleted,
        (ulong)session.StepsFailed);
}
