namespace GpuMux.Bench.Plotting;

internal enum MarkerShape
{
    Circle,
    Square,
}
