namespace GpuMux.Gpu.Tests;

internal static class TestData
{
    /// <summary>Sizes that are not multiples of a block, a warp or a word, with the edge cases either side.</summary>
    public static readonly int[] AwkwardCounts = [1, 3, 31, 33, 255, 257, 1000, 4099, 65_537, 1_000_003];

    public static float[] Floats(Random random, int count, float scale = 1f)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }
        return values;
    }

    public static byte[] Bytes(Random random, int count)
    {
        var values = new byte[count];
        random.NextBytes(values);
        return values;
    }
}
