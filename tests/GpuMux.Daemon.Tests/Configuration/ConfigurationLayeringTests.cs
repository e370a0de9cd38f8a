using GpuMux.Daemon.Configuration;
using GpuMux.Gpu;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Tests.Configuration;

public sealed class ConfigurationLayeringTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gpumuxd-config-test-");

    private string AbsentDefaultFile => Path.Combine(_directory.FullName, "absent.json");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void The_command_line_beats_the_environment_which_beats_the_file()
    {
        // A key nobody else reads: setting it in this process's environment cannot disturb other tests.
        var key = $"Probe{Guid.NewGuid():N}";
        var file = WriteFile($$"""{ "{{key}}": { "InFile": "file", "InEnvironment": "file", "OnCommandLine": "file" } }""");
        Environment.SetEnvironmentVariable($"GPUMUXD_{key}__InEnvironment", "environment");
        Environment.SetEnvironmentVariable($"GPUMUXD_{key}__OnCommandLine", "environment");
        try
        {
            var configuration = Layered(["--config", file, $"--{key}:OnCommandLine=command line"]);

            Assert.Equal("file", configuration[$"{key}:InFile"]);
            Assert.Equal("environment", configuration[$"{key}:InEnvironment"]);
            Assert.Equal("command line", configuration[$"{key}:OnCommandLine"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable($"GPUMUXD_{key}__InEnvironment", null);
            Environment.SetEnvironmentVariable($"GPUMUXD_{key}__OnCommandLine", null);
        }
    }

    [Fact]
    public void Switches_override_the_file_and_the_file_overrides_the_defaults()
    {
        var file = WriteFile("""
            {
              "Socket": { "Path": "/run/from-file.sock", "Mode": "0600" },
              "Device": { "Backend": "cuda", "Ordinal": 1 },
              "Sim": { "MemoryMiB": 1024 },
              "Limits": { "MaxSessions": 8, "MaxOpsPerStep": 32 }
            }
            """);

        using var services = Options(Layered([
            "--config", file, "--socket", "/run/from-args.sock", "--backend", "sim", "--device", "2",
            "--sim-memory-mib", "512", "--Limits:MaxSessions=10",
        ]));

        var socket = services.GetRequiredService<IOptions<SocketOptions>>().Value;
        var device = services.GetRequiredService<IOptions<DeviceOptions>>().Value;
        var limits = services.GetRequiredService<IOptions<LimitsOptions>>().Value;
        Assert.Equal("/run/from-args.sock", socket.Path);
        Assert.Equal("0600", socket.Mode);
        Assert.Equal("gpumux", socket.Group);
        Assert.Equal(BackendPreference.Sim, device.Backend);
        Assert.Equal(2, device.Ordinal);
        Assert.Equal(512, services.GetRequiredService<IOptions<SimOptions>>().Value.MemoryMiB);
        Assert.Equal(10, limits.MaxSessions);
        Assert.Equal(32, limits.MaxOpsPerStep);
        Assert.Equal(64, limits.MaxRegionsPerSession);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Config_takes_its_path_as_the_next_argument_or_after_an_equals_sign(bool afterEquals)
    {
        var file = WriteFile("""{ "Limits": { "MaxSessions": 3 } }""");
        string[] args = afterEquals ? [$"--config={file}"] : ["--config", file];

        Assert.Equal("3", Layered(args)["Limits:MaxSessions"]);
    }

    [Fact]
    public void GPUMUXD_CONFIG_names_the_file_and_config_on_the_command_line_wins_over_it()
    {
        var fromEnvironment = WriteFile("""{ "Limits": { "MaxSessions": 3 } }""", "environment.json");
        var fromCommandLine = WriteFile("""{ "Limits": { "MaxSessions": 4 } }""", "command-line.json");

        Assert.Equal("3", Layered([], fromEnvironment)["Limits:MaxSessions"]);
        Assert.Equal("4", Layered(["--config", fromCommandLine], fromEnvironment)["Limits:MaxSessions"]);
    }

    [Fact]
    public void Without_a_file_the_defaults_hold()
    {
        using var services = Options(Layered([]));

        SettingsAssert.EqualSettings(new SocketOptions(), services.GetRequiredService<IOptions<SocketOptions>>().Value);
        SettingsAssert.EqualSettings(new DeviceOptions(), services.GetRequiredService<IOptions<DeviceOptions>>().Value);
        SettingsAssert.EqualSettings(new SimOptions(), services.GetRequiredService<IOptions<SimOptions>>().Value);
        SettingsAssert.EqualSettings(new LimitsOptions(), services.GetRequiredService<IOptions<LimitsOptions>>().Value);
    }

    [Fact]
    public void A_file_named_on_the_command_line_must_exist()
    {
        var missing = Path.Combine(_directory.FullName, "missing.json");

        var error = Assert.Throws<ConfigurationException>(() => Layered(["--config", missing]));

        Assert.Equal($"The configuration file '{missing}' named by --config does not exist.", Assert.Single(error.Problems));
    }

    [Fact]
    public void A_file_named_by_GPUMUXD_CONFIG_must_exist()
    {
        var missing = Path.Combine(_directory.FullName, "missing.json");

        var error = Assert.Throws<ConfigurationException>(() => Layered([], missing));

        Assert.Equal($"The configuration file '{missing}' named by GPUMUXD_CONFIG does not exist.", Assert.Single(error.Problems));
    }

    [Fact]
    public void A_file_that_is_not_JSON_is_refused_saying_where()
    {
        var file = WriteFile("{ \"Limits\": { \"MaxSessions\": 3\n  \"MaxOpsPerStep\": 4 } }");

        var error = Assert.Throws<ConfigurationException>(() => Layered(["--config", file]));

        Assert.StartsWith($"{file} is not valid JSON at line 2, byte 3: ", Assert.Single(error.Problems));
    }

    [Fact]
    public void Unknown_keys_in_the_daemon_s_sections_are_warnings_naming_the_nearest_key()
    {
        var file = WriteFile("""{ "Limits": { "MaxSessions": 3, "MaxSesions": 1 }, "Tenants": { "Uids": { "1000": { "MaxLease": 2 } } }, "NoSuchSection": { "A": 1 } }""");

        var problems = Check("--config", file);

        Assert.Empty(problems.Errors);
        Assert.Equal(
            [
                "Limits:MaxSesions is not a setting gpumuxd knows, so it has no effect; the nearest one is Limits:MaxSessions.",
                "Tenants:Uids:1000:MaxLease is not a setting gpumuxd knows, so it has no effect; the nearest one is Tenants:Uids:1000:MaxLeases.",
            ],
            problems.Warnings);
    }

    [Fact]
    public void In_a_host_the_file_overrides_the_host_s_own_configuration_and_the_command_line_overrides_both()
    {
        string[] args = ["--config", WriteFile("""{ "Limits": { "MaxSessions": 7 } }"""), "--socket", "/run/args.sock"];
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("Socket:Path", "/run/host.sock"), new("Limits:MaxSessions", "5"), new("Limits:MaxOpsPerStep", "5")]);

        DaemonLayers.Load(args, null, AbsentDefaultFile).AddTo(builder.Configuration);
        builder.Services.AddGpumuxdOptions(builder.Configuration);
        using var host = builder.Build();

        Assert.Equal("/run/args.sock", host.Services.GetRequiredService<IOptions<SocketOptions>>().Value.Path);
        Assert.Equal(7, host.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxSessions);
        Assert.Equal(5, host.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxOpsPerStep);
    }

    [Fact]
    public void An_out_of_range_setting_stops_the_start_and_is_named()
    {
        Assert.Equal(["Limits:MaxFramePayloadBytes is 100; it must be from 4096 to 16777216."], Check("--Limits:MaxFramePayloadBytes=100").Errors);
    }

    [Theory]
    [InlineData("--backend", "gpu", "Device:Backend is 'gpu'; it must be one of auto, cuda, sim.")]
    [InlineData("--Limits:MaxSessions", "many", "Limits:MaxSessions is 'many'; it must be a whole number from -2147483648 to 2147483647.")]
    [InlineData("--Memory:DevicePoolFraction", "half", "Memory:DevicePoolFraction is 'half'; it must be a number, such as 0.5.")]
    [InlineData("--Tenants:Uids:1000:MaxDeviceBytes", "-1", "Tenants:Uids:1000:MaxDeviceBytes is '-1'; it must be a whole number from 0 to 18446744073709551615.")]
    public void A_value_of_the_wrong_kind_stops_the_start_naming_the_key_the_value_and_what_it_takes(string key, string value, string expected)
    {
        Assert.Equal([expected], Check(key, value).Errors);
    }

    [Fact]
    public void The_shipped_file_is_valid_and_every_key_in_it_is_known()
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "deploy", "gpumuxd.json");

        var problems = Check("--config", shipped);

        Assert.Empty(problems.Errors);
        Assert.Empty(problems.Warnings);
    }

    private ConfigurationProblems Check(params string[] args) => DaemonLayers.Check(args, AbsentDefaultFile);

    private ConfigurationManager Layered(string[] args, string? fileFromEnvironment = null) =>
        DaemonLayers.Layered(args, fileFromEnvironment, AbsentDefaultFile);

    private static ServiceProvider Options(IConfiguration configuration) =>
        new ServiceCollection().AddGpumuxdOptions(configuration).BuildServiceProvider();

    private string WriteFile(string json, string name = "gpumuxd.json")
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, json);
        return path;
    }
}
