using GpuMux.Daemon.Tests.EndToEnd;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// The Python client's own suite (clients/python/tests, standard unittest) against a real daemon
/// on the Sim, so that the one test command runs it; the common scenario is among its tests.
/// </summary>
public sealed class PythonClientTests
{
    [Fact]
    public async Task The_python_clients_tests_pass_against_a_sim_daemon()
    {
        var (python, reason) = await PythonInterpreter.FindAsync();
        Assert.SkipWhen(python is null, reason);
        // Loading modules is a right the suite's CUDA C kernel needs.
        await using var daemon = await TestDaemon.StartAsync(TestDaemon.TrustingModules);

        var (exitCode, output) = await ChildProcess.RunAsync(
            PythonInterpreter.StartInfo(python, ["-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"], daemon.SocketPath));

        Assert.True(exitCode == 0, $"python3 -m unittest exited with {exitCode}:\n{output}");
        Assert.DoesNotContain("skipped 'needs a gpumuxd", output, StringComparison.Ordinal);
    }
}
