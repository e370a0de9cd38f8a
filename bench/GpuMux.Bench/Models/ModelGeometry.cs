namespace GpuMux.Bench.Models;

/// <summary>
/// The shape of a benchmark model: <see cref="Layers"/> f16 weight matrices of
/// <see cref="Rows"/> × <see cref="Cols"/>, each about <see cref="LayerTargetBytes"/>, one layer group each.
/// </summary>
internal readonly record struct ModelGeometry(int SizeMib, int Layers, int Rows)
{
    /// <summary>A hidden size of 4096, as in 7B-class models.</summary>
    public const int Cols = 4096;

    public const ulong LayerTargetBytes = 32UL << 20;

    public ulong LayerBytes => (ulong)Rows * Cols * sizeof(ushort);

    /// <summary>The model's data bytes: what a swap-in copies. Within a row of <see cref="SizeMib"/> MiB.</summary>
    public ulong Bytes => LayerBytes * (ulong)Layers;

    public static ModelGeometry For(int sizeMib)
    {
        var bytes = (ulong)sizeMib << 20;
        var layers = (int)Math.Max(1, Math.Round(bytes / (double)LayerTargetBytes));
        var rows = (int)(bytes / (ulong)layers / (Cols * sizeof(ushort)));
        return new ModelGeometry(sizeMib, layers, rows);
    }
}
