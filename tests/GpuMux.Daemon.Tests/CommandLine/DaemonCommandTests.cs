using GpuMux.Daemon.CommandLine;

namespace GpuMux.Daemon.Tests.CommandLine;

public sealed class DaemonCommandTests
{
    [Fact]
    public void Settings_are_taken_in_both_forms_beside_the_options_and_the_switches_become_settings()
    {
        var arguments = new DaemonCommand().Parse(
            ["--Limits:MaxSessions=8", "--socket", "/run/s.sock", "--Tenants:Default:Kernels", "trusted", "--config=/etc/x.json", "--verbose"], out _);

        Assert.NotNull(arguments);
        Assert.Equal(
            [new("Limits:MaxSessions", "8"), new("Tenants:Default:Kernels", "trusted"), new("Socket:Path", "/run/s.sock")],
            arguments.Settings);
        Assert.Equal(("/etc/x.json", false, true), (arguments.ConfigFile, arguments.CheckOnly, arguments.Verbose));
    }

    [Theory]
    [InlineData("--no-such-option")]
    [InlineData("--socket")]
    [InlineData("--Limits:MaxSessions")]
    [InlineData("stray")]
    public void An_option_it_does_not_know_or_one_without_its_value_is_a_usage_error(string argument)
    {
        Assert.Null(new DaemonCommand().Parse([argument], out var parse));
        Assert.NotEmpty(parse.Errors);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("--version")]
    public void Help_and_the_version_are_no_run(string argument)
    {
        Assert.Null(new DaemonCommand().Parse([argument], out var parse));
        Assert.Empty(parse.Errors);
    }

    [Fact]
    public void Check_config_takes_a_file_or_checks_the_usual_one()
    {
        var named = new DaemonCommand().Parse(["--check-config", "/tmp/x.json"], out _);
        var usual = new DaemonCommand().Parse(["--check-config", "--Limits:MaxSessions=0"], out _);

        Assert.Equal(("/tmp/x.json", true), (named?.ConfigFile, named?.CheckOnly ?? false));
        Assert.Equal((null, true), (usual?.ConfigFile, usual?.CheckOnly ?? false));
    }
}
