namespace GpuMux.Bench.Plotting;

internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb White => new(255, 255, 255);
}
