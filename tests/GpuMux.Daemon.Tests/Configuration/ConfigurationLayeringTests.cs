using GpuMux.Daemon.Configuration;
using GpuMux.Gpu;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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

        var error = Assert.Throws<FileNotFoundException>(() => Layered(["--config", missing]));

        Assert.Equal($"The configuration file '{missing}' named by --config does not exist.", error.Message);
    }

    [Fact]
    public void A_file_named_by_GPUMUXD_CONFIG_must_exist()
    {
        var missing = Path.Combine(_directory.FullName, "missing.json");

        var error = Assert.Throws<FileNotFoundException>(() => Layered([], missing));

        Assert.Equal($"The configuration file '{missing}' named by GPUMUXD_CONFIG does not exist.", error.Message);
    }

    [Fact]
    public void Unknown_keys_and_switches_are_ignored()
    {
        var file = WriteFile("""{ "Limits": { "MaxSessions": 3, "NoSuchLimit": 1 }, "NoSuchSection": { "A": 1 } }""");

        using var services = Options(Layered(["--config", file, "--no-such-switch", "x"]));

        Assert.Equal(3, services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxSessions);
    }

    [Fact]
    public async Task In_a_host_the_file_overrides_appsettings_and_the_command_line_overrides_both()
    {
        File.WriteAllText(Path.Combine(_directory.FullName, "appsettings.json"),
            """{ "Socket": { "Path": "/run/appsettings.sock" }, "Limits": { "MaxSessions": 5, "MaxOpsPerStep": 5 } }""");
        var file = WriteFile("""{ "Limits": { "MaxSessions": 7 } }""");
        string[] args = ["--config", file, "--socket", "/run/args.sock", "--device", "1"];
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = _directory.FullName });
        builder.Logging.ClearProviders();

        builder.Configuration.AddGpumuxdSources(args, null, AbsentDefaultFile);
        builder.Services.AddGpumuxdOptions(builder.Configuration);
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        Assert.Equal("/run/args.sock", host.Services.GetRequiredService<IOptions<SocketOptions>>().Value.Path);
        Assert.Equal(7, host.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxSessions);
        Assert.Equal(5, host.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxOpsPerStep);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task An_out_of_range_setting_stops_the_host_from_starting_and_is_named()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartHostAsync("--Limits:MaxFramePayloadBytes=100"));

        Assert.Equal("Limits:MaxFramePayloadBytes is 100; it must be from 4096 to 16777216.", error.Message);
    }

    [Fact]
    public async Task A_value_of_the_wrong_kind_stops_the_host_from_starting_and_is_named()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartHostAsync("--backend", "gpu"));

        Assert.Contains("'gpu' at 'Device:Backend'", error.Message, StringComparison.Ordinal);
    }

    private async Task StartHostAsync(params string[] args)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = args });
        builder.Configuration.AddGpumuxdSources(args, null, AbsentDefaultFile);
        builder.Services.AddGpumuxdOptions(builder.Configuration);
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private ConfigurationManager Layered(string[] args, string? fileFromEnvironment = null)
    {
        var configuration = new ConfigurationManager();
        configuration.AddGpumuxdSources(args, fileFromEnvironment, AbsentDefaultFile);
        return configuration;
    }

    private static ServiceProvider Options(IConfiguration configuration) =>
        new ServiceCollection().AddGpumuxdOptions(configuration).BuildServiceProvider();

    private string WriteFile(string json, string name = "gpumuxd.json")
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, json);
        return path;
    }
}
