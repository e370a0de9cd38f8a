using GpuMux.Cli;
using GpuMux.Cli.Commands;
using GpuMux.Daemon.Tests.EndToEnd;

namespace GpuMux.Daemon.Tests.Cli;

/// <summary>gpumuxctl as a user runs it: every bad argument a usage error (64), <c>health</c> 0 or 1.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("demo", "--steps", "abc")]
    [InlineData("demo", "--sessions", "-3")]
    [InlineData("demo", "--steps", "99999999999")]
    [InlineData("status", "-o", "yaml")]
    [InlineData("status", "--no-such-option")]
    [InlineData("no-such-command")]
    public async Task A_bad_argument_is_a_usage_error(params string[] args)
    {
        var terminal = new CapturedTerminal();

        Assert.Equal(ExitCodes.Usage, await GpuMuxCtl.RunAsync(args, terminal.Terminal, TestContext.Current.CancellationToken));
        Assert.NotEmpty(terminal.Error);
        Assert.DoesNotContain("   at ", terminal.Error + terminal.Out);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("health")]
    [InlineData("demo")]
    public async Task A_socket_path_too_long_for_a_unix_socket_is_a_usage_error(string command)
    {
        var terminal = new CapturedTerminal();
        var host = "unix:/tmp/" + new string('x', 200) + ".sock";

        Assert.Equal(ExitCodes.Usage, await GpuMuxCtl.RunAsync([command, "--host", host], terminal.Terminal, TestContext.Current.CancellationToken));
        Assert.Contains("at most 107", terminal.Error);
        Assert.DoesNotContain("   at ", terminal.Error + terminal.Out);
    }

    [Fact]
    public async Task Health_is_1_where_no_daemon_answers()
    {
        var terminal = new CapturedTerminal();
        var missing = Path.Combine(Path.GetTempPath(), $"gmx-none-{Guid.NewGuid():N}.sock");

        Assert.Equal(ExitCodes.CheckFailed, await GpuMuxCtl.RunAsync(["health", "--host", missing], terminal.Terminal, TestContext.Current.CancellationToken));
        Assert.Contains("unhealthy", terminal.Error);
    }

    [Fact]
    public async Task Health_is_0_where_the_daemon_answers_with_its_device()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var terminal = new CapturedTerminal();

        Assert.Equal(ExitCodes.Ok, await GpuMuxCtl.RunAsync(["health", "--host", daemon.SocketPath], terminal.Terminal, TestContext.Current.CancellationToken));
        Assert.StartsWith("healthy:", terminal.Out, StringComparison.Ordinal);
    }
}
