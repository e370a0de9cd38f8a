using GpuMux.Engine.Device;
using GpuMux.Engine.Models;
using GpuMux.Engine.Sessions;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Faults;

/// <summary>
/// Replaces a context that a sticky fault has poisoned. CUDA offers no way back for such a
/// context, so every object on it is let go, the device is reset (a release alone destroys the
/// context only when nothing else in the process holds it), and a new context must prove that
/// it computes (<see cref="DeviceCheck"/>) before everything is made again on it: a device pool of the
/// same budget, the built-ins and each session's modules loaded from their kept images, regions
/// pinned again, buffers allocated again from the new pool at their sizes and zeroed (their
/// contents went with the old context), streams made again, every model's range reserved again
/// (no model is resident; each swaps in from its staged copy on its next use), the pinned pool
/// and the bounce ring registered with the new context. Handles do not change, so sessions
/// carry on, and nothing registered is lost.
/// <para>
/// What sessions let go of while the old context had work queued on it is released only after
/// the reset: a faulted context's copies may still be running until it is destroyed, and host
/// memory they read or write (a client's region) must stay mapped until then.
/// </para>
/// </summary>
internal sealed class DeviceRecovery(GpuBackend backend, EngineOptions options, LoadedModule builtins, CompletionSignal completions, ILogger logger)
{
    /// <summary>
    /// The new device, or null with the reason when the reset, the new context or its check
    /// failed: the device is lost. <paramref name="models"/> have been detached already.
    /// </summary>
    public DeviceContext? Rebuild(DeviceContext broken, IReadOnlyList<SessionState> sessions, ModelStore models, out string? failure)
    {
        var budget = broken.Pool.BudgetBytes;
        Detach(sessions);
        broken.Dispose();
        DeviceContext? device = null;
        try
        {
            try
            {
                backend.ResetDevice(options.DeviceOrdinal);
            }
            finally
            {
                // Only now can nothing of the old context still run: what was let go of under its
                // queued work (regions above all, which its copies could still have written) goes.
                broken.Releases.ReleaseAll();
            }
            device = DeviceContext.Create(backend, options.DeviceOrdinal, options, completions, budget, context => DeviceCheck.Verify(context, builtins.Image));
            builtins.Attach(device.Context);
            foreach (var session in sessions)
            {
                session.AttachToDevice(device);
            }
            models.AttachToDevice(device);
            FaultLog.DeviceRebuilt(logger, sessions.Count);
            failure = null;
            return device;
        }
        catch (Exception e)
        {
            FaultLog.RebuildFailed(logger, e);
            device?.MarkFaulted();
            Detach(sessions);
            models.DetachFromDevice();
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
