using GpuMux.Engine;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Connections;

/// <summary>The engine's view of the device, its sessions, classes, leases and tenants, in wire form.</summary>
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

    /// <summary>What 1.2 added to a session's status: its class, and its lease if it holds one.</summary>
    public static SessionClassEntry ToClassWire(this SessionStatus session) => new(session.Class, session.Lease?.ToWire());

    public static PriorityClassEntry ToWire(this ClassStatus priorityClass) => new(
        priorityClass.Name,
        priorityClass.StreamPriority,
        (uint)priorityClass.StepsQueued,
        (uint)priorityClass.StepsOnDevice,
        priorityClass.RecentShare,
        priorityClass.MinimumShare);

    public static Protocol.Messages.SchedulingPolicy ToWire(this Engine.Scheduling.SchedulingPolicy policy) => policy switch
    {
        Engine.Scheduling.SchedulingPolicy.Step => Protocol.Messages.SchedulingPolicy.Step,
        Engine.Scheduling.SchedulingPolicy.Request => Protocol.Messages.SchedulingPolicy.Request,
        Engine.Scheduling.SchedulingPolicy.Dedicated => Protocol.Messages.SchedulingPolicy.Dedicated,
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "not a scheduling policy"),
    };

    public static LeaseInfo ToWire(this LeaseStatus lease) => new(
        lease.Id,
        lease.Class,
        Nanoseconds(lease.GpuTimeUsed),
        lease.MaxGpuTime is { } budget ? Nanoseconds(budget) : 0,
        lease.AcquiredAt.ToUnixTimeMilliseconds(),
        lease.ExpiresAt?.ToUnixTimeMilliseconds() ?? 0,
        lease.DeviceBytes,
        lease.MaxDeviceBytes,
        lease.Expired);

    public static TenantEntry ToWire(this TenantStatus tenant) => new(
        tenant.Uid,
        tenant.Limits.Weight,
        (uint)tenant.Sessions,
        tenant.DeviceBytes,
        tenant.Limits.MaxDeviceBytes,
        (uint)tenant.Leases,
        (uint)tenant.Limits.MaxLeases,
        tenant.GpuSecondsToday,
        tenant.Limits.GpuSecondsPerDay,
        tenant.ResetsAt?.ToUnixTimeMilliseconds() ?? 0,
        tenant.Limits.HighestClass ?? string.Empty,
        tenant.Usage.ToWire());

    public static UsageEntry ToWire(this UsageFigures usage) => new(
        usage.GpuSeconds,
        (ulong)usage.Steps,
        (ulong)usage.Swaps,
        usage.BytesMoved,
        usage.QueueDelayP50Milliseconds ?? double.NaN,
        usage.QueueDelayP99Milliseconds ?? double.NaN);

    private static ulong Nanoseconds(TimeSpan time) => (ulong)Math.Max(0, time.Ticks) * 100;
}
