using GpuMux.Gpu.Compilation;

namespace GpuMux.Gpu;

public enum GpuBackendKind
{
    Cuda,
    Sim,
}

/// <summary>
/// A source of devices: the CUDA driver, or the simulator. It enumerates devices once and hands
/// out at most one live context per device.
/// </summary>
public abstract class GpuBackend
{
    private readonly Lock _gate = new();
    private readonly HashSet<int> _claimedDevices = [];

    public abstract GpuBackendKind Kind { get; }

    /// <summary>What this backend is, in one line for logs: on CUDA, <see cref="DriverVersion"/> and <see cref="Compiler"/> put into words.</summary>
    public abstract string Description { get; }

    /// <summary>The CUDA version the driver supports (<c>cuDriverGetVersion</c>); null on the Sim, which drives no GPU.</summary>
    public abstract Version? DriverVersion { get; }

    /// <summary>What compiles CUDA C here; null on the Sim, which runs its built-in kernels and compiles nothing.</summary>
    public abstract KernelCompilerInfo? Compiler { get; }

    public abstract IReadOnlyList<GpuDeviceInfo> Devices { get; }

    /// <summary>
    /// The context of device <paramref name="ordinal"/>, owned by the calling thread until disposed.
    /// </summary>
    public GpuContext CreateContext(int ordinal)
    {
        Claim(ordinal, "already has a live context; a device has one context, owned by one thread");
        try
        {
            return CreateContextCore(Devices[ordinal]);
        }
        catch
        {
            ContextReleased(ordinal);
            throw;
        }
    }

    /// <summary>
    /// Destroys whatever is left of device <paramref name="ordinal"/>'s context, as after a sticky
    /// fault: releasing a context destroys it only when nothing else in the process still holds
    /// it, and a reset destroys it whatever holds it. Call it once the device's context has been
    /// disposed, and create a new one afterwards. Throws when the device cannot be reset.
    /// </summary>
    public void ResetDevice(int ordinal)
    {
        Claim(ordinal, "has a live context; dispose it before resetting the device");
        try
        {
            ResetDeviceCore(Devices[ordinal]);
        }
        finally
        {
            ContextReleased(ordinal);
        }
    }

    protected abstract GpuContext CreateContextCore(GpuDeviceInfo device);

    protected abstract void ResetDeviceCore(GpuDeviceInfo device);

    /// <summary>Takes device <paramref name="ordinal"/> for a context or a reset, which exclude each other.</summary>
    private void Claim(int ordinal, string refusal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ordinal, Devices.Count);
        lock (_gate)
        {
            if (!_claimedDevices.Add(ordinal))
            {
                throw new InvalidOperationException($"device {ordinal} {refusal}");
            }
        }
    }

    /// <summary>Called by a context's release so that the device may have a context again.</summary>
    internal void ContextReleased(int ordinal)
    {
        lock (_gate)
        {
            _claimedDevices.Remove(ordinal);
        }
    }
}
