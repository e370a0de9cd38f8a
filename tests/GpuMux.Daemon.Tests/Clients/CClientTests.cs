using GpuMux.Daemon.Tests.EndToEnd;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// libgpumux (clients/c): its CTest suite (tests, example and the common scenario, under
/// AddressSanitizer and UBSan) run against a real daemon on the Sim. Skipped where cc, cmake or
/// ctest is missing.
/// </summary>
public sealed class CClientTests(CClientBuild build)
{
    [Fact]
    public async Task The_C_library_builds_warning_free_and_passes_its_tests_against_a_Sim_daemon()
    {
        Assert.SkipWhen(build.MissingTools is not null, build.MissingTools ?? "");
        var directory = await build.GetAsync();

        await using var daemon = await TestDaemon.StartAsync(TestDaemon.TrustingModules);
        var output = await ChildProcess.RunToSuccessAsync(ChildProcess.StartInfo(
            "ctest", ["--test-dir", directory, "--output-on-failure", "--timeout", "60"], ("GPUMUX_HOST", $"unix:{daemon.SocketPath}")));

        // A test that found no daemon would be skipped, not failed: none may be.
        Assert.DoesNotContain("Skipped", output, StringComparison.Ordinal);
        Assert.Contains("100% tests passed", output, StringComparison.Ordinal);
    }
}
