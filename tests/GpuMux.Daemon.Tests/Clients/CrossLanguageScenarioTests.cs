using GpuMux.Daemon.Tests.EndToEnd;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// A Python, a C and a .NET client share one daemon on the Sim, each running the common scenario
/// (clients/scenario.md) at the same time and checking its own results: all three print the lines
/// computed here, bit for bit. Skipped where python3, cc or cmake is missing.
/// </summary>
public sealed class CrossLanguageScenarioTests(CClientBuild build)
{
    [Fact]
    public async Task Python_C_and_dotnet_clients_sharing_one_daemon_each_get_the_host_s_results()
    {
        var (python, reason) = await PythonInterpreter.FindAsync();
        Assert.SkipWhen(python is null, reason);
        Assert.SkipWhen(build.MissingTools is not null, build.MissingTools ?? "");
        var cBuild = await build.GetAsync();
        await using var daemon = await TestDaemon.StartAsync();

        var runs = await Task.WhenAll(
            ChildProcess.RunAsync(CommonScenario.Python(python, daemon.SocketPath)),
            ChildProcess.RunAsync(CommonScenario.C(cBuild, daemon.SocketPath)),
            ChildProcess.RunAsync(CommonScenario.Dotnet(daemon.SocketPath)));

        var expected = CommonScenario.ExpectedLines();
        foreach (var (language, (exitCode, output)) in new[] { "Python", "C", ".NET" }.Zip(runs))
        {
            Assert.True(exitCode == 0, $"the {language} scenario exited with {exitCode}:\n{output}");
            Assert.Equal(expected, CommonScenario.Lines(output));
        }
    }
}
