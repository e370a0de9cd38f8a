namespace GpuMux.Scenario;

/// <summary>A check found a value other than the host's: "FAIL name: what it found".</summary>
internal sealed class ScenarioFailure(string name, string found) : Exception($"FAIL {name}: {found}")
{
    public static void Unless(bool holds, string name, Func<string> found)
    {
        if (!holds)
        {
            throw new ScenarioFailure(name, found());
        }
    }

    /// <summary>Fails at the first element of <paramref name="got"/> whose bits differ from <paramref name="expected"/>'s.</summary>
    public static void UnlessEqual(ReadOnlySpan<float> got, ReadOnlySpan<float> expected, string name)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(got[i]) != BitConverter.SingleToUInt32Bits(expected[i]))
            {
                throw new ScenarioFailure(name, $"[{i}] = {got[i]}, expected {expected[i]}");
            }
        }
    }
}
