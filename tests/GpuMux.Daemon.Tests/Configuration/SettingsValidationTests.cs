using GpuMux.Daemon.Configuration;
using GpuMux.Gpu;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Tests.Configuration;

public sealed class SettingsValidationTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(Validate(new SocketOptions()).Succeeded);
        Assert.True(Validate(new DeviceOptions()).Succeeded);
        Assert.True(Validate(new SimOptions()).Succeeded);
        Assert.True(Validate(new LimitsOptions()).Succeeded);
    }

    [Theory]
    [InlineData(4095, false)]
    [InlineData(4096, true)]
    [InlineData(16 << 20, true)]
    [InlineData((16 << 20) + 1, false)]
    public void The_frame_payload_cap_is_from_4_KiB_to_16_MiB(int bytes, bool valid)
    {
        var result = Validate(new LimitsOptions { MaxFramePayloadBytes = bytes });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Equal([$"Limits:MaxFramePayloadBytes is {bytes}; it must be from 4096 to 16777216."], result.Failures);
        }
    }

    [Fact]
    public void Every_bad_setting_in_a_section_is_reported_at_once()
    {
        var result = Validate(new LimitsOptions { MaxSessions = 0, MaxRegionBytes = 100, MaxOpsPerStep = 0 });

        Assert.Equal(
            [
                "Limits:MaxSessions is 0; it must be from 1 to 65536.",
                "Limits:MaxRegionBytes is 100; it must be from 4096 to 1099511627776.",
                "Limits:MaxOpsPerStep is 0; it must be from 1 to 65536.",
            ],
            result.Failures);
    }

    [Theory]
    [InlineData("0999")]
    [InlineData("1777")]
    [InlineData("")]
    public void A_socket_mode_that_is_not_octal_permission_bits_is_named(string mode)
    {
        var result = Validate(new SocketOptions { Mode = mode });

        Assert.Equal([$"Socket:Mode is '{mode}'; it must be an octal permission mode from 0000 to 0777, such as 0660."], result.Failures);
    }

    [Fact]
    public void A_socket_path_must_be_absolute_and_fit_in_sun_path()
    {
        var longPath = "/run/" + new string('x', 103);

        Assert.Equal(["Socket:Path is 'gpumuxd.sock'; it must be an absolute path."], Validate(new SocketOptions { Path = "gpumuxd.sock" }).Failures);
        Assert.Equal([$"Socket:Path is '{longPath}', 108 bytes long; a Unix socket path has at most 107."], Validate(new SocketOptions { Path = longPath }).Failures);
        Assert.True(Validate(new SocketOptions { Path = "/run/" + new string('x', 102) }).Succeeded);
    }

    [Fact]
    public void The_device_settings_are_checked()
    {
        var result = Validate(new DeviceOptions { Backend = (BackendPreference)7, Ordinal = -1, ModuleCacheDirectory = "cache" });

        Assert.Equal(
            [
                "Device:Backend is 7; it must be auto, cuda or sim.",
                "Device:Ordinal is -1; it must be at least 0.",
                "Device:ModuleCacheDirectory is 'cache'; it must be an absolute path, or empty for the default.",
            ],
            result.Failures);
    }

    [Fact]
    public void Simulated_memory_must_be_at_least_one_MiB()
    {
        Assert.Equal(["Sim:MemoryMiB is 0; it must be from 1 to 1048576."], Validate(new SimOptions { MemoryMiB = 0 }).Failures);
    }

    private static ValidateOptionsResult Validate<T>(T options)
        where T : class, IDaemonSettings => new SettingsValidator<T>().Validate(Options.DefaultName, options);
}
