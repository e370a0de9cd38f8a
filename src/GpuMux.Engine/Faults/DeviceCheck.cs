using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Faults;

/// <summary>
/// Proves that a context made after a sticky fault computes: runs the built-in axpy on known data
/// and compares the result, bit for bit, with <see cref="KernelReference"/>. cuda.h promises
/// nothing after such a fault (the process "must be terminated and relaunched"), so a rebuilt
/// context is trusted only once it has given the right answer.
/// </summary>
internal static class DeviceCheck
{
    // Not a multiple of a block or a warp, so that the kernel's tail runs too.
    private const int Count = 4099;
    private const float A = 1.5f;

    /// <summary>Throws <see cref="DeviceCheckFailedException"/> on a wrong result, or the device's own error when it cannot run the check.</summary>
    public static void Verify(GpuContext context, ModuleImage builtins)
    {
        var x = new float[Count];
        var y = new float[Count];
        for (var i = 0; i < Count; i++)
        {
            x[i] = (i % 97) * 0.25f - 11.875f;
            y[i] = (i % 89) * 0.5f + 1f;
        }
        var actual = new float[Count];
        using (var kernels = BuiltinKernels.Load(context, builtins))
        using (var stream = context.CreateStream())
        using (var deviceX = stream.AllocateAndUpload<float>(x))
        using (var deviceY = stream.AllocateAndUpload<float>(y))
        {
            kernels.Axpy(stream, deviceY.Pointer, deviceX.Pointer, A, Count);
            stream.Download<float>(actual, deviceY.Pointer);
        }
        KernelReference.Axpy(y, x, A);
        for (var i = 0; i < Count; i++)
        {
            if (BitConverter.SingleToUInt32Bits(actual[i]) != BitConverter.SingleToUInt32Bits(y[i]))
            {
                throw new DeviceCheckFailedException($"the new context computed a wrong axpy: element {i} of {Count} is {actual[i]:R}, expected {y[i]:R}");
            }
        }
    }
}

/// <summary>A rebuilt context ran the check but computed a wrong result.</summary>
internal sealed class DeviceCheckFailedException(string message) : Exception(message);
