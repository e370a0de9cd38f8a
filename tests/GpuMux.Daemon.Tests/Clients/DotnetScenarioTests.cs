using GpuMux.Daemon.Tests.EndToEnd;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// The .NET client's common scenario (clients/dotnet/Scenario, clients/scenario.md) as a process of
/// its own against a Sim daemon: it prints exactly the lines the scenario gives, each result's
/// sha256 the one computed here from the kernels' C# references.
/// </summary>
public sealed class DotnetScenarioTests
{
    [Fact]
    public async Task The_scenario_prints_the_host_s_results_and_ends_ok()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var (exitCode, output) = await ChildProcess.RunAsync(CommonScenario.Dotnet(daemon.SocketPath));

        Assert.True(exitCode == 0, output);
        Assert.Equal(CommonScenario.ExpectedLines(), CommonScenario.Lines(output));
    }
}
