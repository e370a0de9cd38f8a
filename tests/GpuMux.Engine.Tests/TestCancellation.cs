global using static GpuMux.Engine.Tests.TestCancellation;

namespace GpuMux.Engine.Tests;

internal static class TestCancellation
{
    /// <summary>The running test's token, for every engine call that takes one.</summary>
    public static CancellationToken Ct => TestContext.Current.CancellationToken;
}
