namespace GpuMux.Gpu.Kernels;

/// <summary>Element type of a weight matrix for <see cref="BuiltinKernels.Gemv"/>.</summary>
public enum WeightType
{
    F32,
    F16,
    Bf16,
}
