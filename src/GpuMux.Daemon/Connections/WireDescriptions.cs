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

    public static ModelEntry ToWire(this ModelStatus model) => new(
        (ulong)model.SessionId,
        model.Model,
        model.Name,
        model.OwnerUid,
        model.Bytes,
        (uint)model.TensorCount,
        (uint)model.Groups,
        (Protocol.Messages.ModelTier)model.Tier,
        model.Resident,
        model.LastUsed?.ToUnixTimeMilliseconds() ?? 0,
        (ulong)model.SwapCount,
        model.MedianSwapInBytesPerSecond ?? 0);

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
