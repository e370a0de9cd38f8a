namespace GpuMux.Gpu;

/// <summary>
/// The one error type of the GPU layer. Backends derive from it to carry their own detail
/// (the CUDA result and the failing call, the NVRTC log), so callers catch this and branch on
/// <see cref="Status"/>.
/// </summary>
public class GpuException : Exception
{
    public GpuException(GpuStatus status, string message, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
    }

    public GpuStatus Status { get; }

    /// <summary>
    /// True when the error poisoned the context: every later call on it fails the same way,
    /// and the only way on is a new context.
    /// </summary>
    public bool IsContextFatal => Status is GpuStatus.IllegalAddress or GpuStatus.KernelFault or GpuStatus.LaunchTimeout or GpuStatus.ContextLost;
}
