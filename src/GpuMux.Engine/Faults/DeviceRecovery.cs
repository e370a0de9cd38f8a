using GpuMux.Engine.Device;
using GpuMux.Engine.Sessions;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Faults;

/// <summary>
/// Replaces a context that a sticky fault has poisoned. CUDA offers no way back for such a
/// context, so every object on it is let go and made again on a new one: the built-ins and each
/// session's modules are loaded from their kept images, regions pinned again, buffers allocated
/// again at their sizes and zeroed (their contents went with the old context), streams made
/// again. Handles do not change, so sessions carry on.
/// </summary>
internal sealed class DeviceRecovery(GpuBackend backend, int ordinal, LoadedModule builtins, ILogger logger)
{
    /// <summary>The new device, or null with the reason when it could not be made.</summary>
    public DeviceContext? Rebuild(DeviceContext broken, IReadOnlyList<SessionState> sessions, out string? failure)
    {
        Detach(sessions);
        broken.Dispose();
        DeviceContext? device = null;
        try
        {
            device = DeviceContext.Create(backend, ordinal);
            builtins.Attach(device.Context);
            foreach (var session in sessions)
            {
                session.AttachToDevice(device.Context);
            }
            FaultLog.DeviceRebuilt(logger, sessions.Count);
            failure = null;
            return device;
        }
        catch (Exception e)
        {
            FaultLog.RebuildFailed(logger, e);
            Detach(sessions);
            device?.Dispose();
            failure = e.Message;
            return null;
        }
    }

    private void Detach(IReadOnlyList<SessionState> sessions)
    {
        foreach (var session in sessions)
        {
            session.DetachFromDevice();
        }
        builtins.Detach();
    }
}
