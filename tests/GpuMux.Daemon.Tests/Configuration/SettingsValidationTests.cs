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
        Assert.True(Validate(new MemoryOptions()).Succeeded);
        Assert.True(Validate(new SchedulingOptions()).Succeeded);
        Assert.True(Validate(new AdminOptions()).Succeeded);
        Assert.True(Validate(new MetricsOptions()).Succeeded);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("wheel", true)]
    [InlineData("gpu admins", false)]
    [InlineData("adm:in", false)]
    public void The_admin_group_is_a_group_name(string group, bool valid)
    {
        var result = Validate(new AdminOptions { Group = group });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Equal([$"Admin:Group is '{group}'; a group name has no spaces, ':', ',' or '/'."], result.Failures);
        }
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
    public void The_handshake_timeout_and_the_connections_waiting_for_Hello_are_bounded()
    {
        var result = Validate(new LimitsOptions { HandshakeTimeoutMs = 99, MaxPendingHandshakes = 0 });

        Assert.Equal(
            [
                "Limits:HandshakeTimeoutMs is 99; it must be from 100 to 600000.",
                "Limits:MaxPendingHandshakes is 0; it must be from 1 to 65536.",
            ],
            result.Failures);
        Assert.True(Validate(new LimitsOptions { HandshakeTimeoutMs = 600_000, MaxPendingHandshakes = 65_536 }).Succeeded);
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

    [Fact]
    public void What_a_reset_does_to_the_simulated_device_must_be_one_of_the_named_outcomes()
    {
        Assert.True(Validate(new SimOptions { AfterReset = Gpu.Sim.SimResetOutcome.KernelsDoNotRun }).Succeeded);
        Assert.Equal(
            ["Sim:AfterReset is 9; it must be Recovers, ResetFails or KernelsDoNotRun."],
            Validate(new SimOptions { AfterReset = (Gpu.Sim.SimResetOutcome)9 }).Failures);
    }

    [Fact]
    public void Bad_classes_are_each_named_by_their_position()
    {
        var result = Validate(new SchedulingOptions
        {
            Classes =
            [
                new() { Name = "interactive", MinimumShare = 0.5 },
                new() { Name = "interactive", MinimumShare = 0.6 },
                new() { Name = "with space", MinimumShare = -0.1 },
                new() { Name = "", MinimumShare = double.NaN, MaxStepMs = 5 },
            ],
            DefaultClass = "interactive",
        });

        Assert.Equal(
            [
                "Scheduling:Classes:1:Name is 'interactive', the name of an earlier class; class names must differ.",
                "Scheduling:Classes:2:Name is 'with space'; a class name is 1 to 32 bytes without spaces.",
                "Scheduling:Classes:2:MinimumShare is -0.1; it must be at least 0 and below 1.",
                "Scheduling:Classes:3:Name is ''; a class name is 1 to 32 bytes without spaces.",
                "Scheduling:Classes:3:MinimumShare is NaN; it must be at least 0 and below 1.",
                "Scheduling:Classes:3:MaxStepMs is 5; it must be from 10 to 86400000.",
            ],
            result.Failures);
    }

    [Fact]
    public void The_classes_shares_must_leave_room_for_priority_and_there_are_at_most_eight()
    {
        var crowded = Enumerable.Range(0, 9).Select(i => new SchedulingClassOptions { Name = $"c{i}", MinimumShare = 0.125 }).ToList();

        var result = Validate(new SchedulingOptions { Classes = crowded, DefaultClass = "c0" });

        Assert.Equal(
            [
                "Scheduling:Classes lists 9 classes; it may list at most 8.",
                "Scheduling:Classes have minimum shares that add up to 1.125; they must add up to less than 1, leaving the rest to priority.",
            ],
            result.Failures);
    }

    [Fact]
    public void The_scheduling_numbers_and_policy_are_checked()
    {
        var result = Validate(new SchedulingOptions { Policy = (GpuMux.Engine.Scheduling.SchedulingPolicy)9, DefaultClass = "gold", StepsOnDevicePerClass = 0, ShareWindowMs = 5 });

        Assert.Equal(
            [
                "Scheduling:Policy is 9; it must be step, request or dedicated.",
                "Scheduling:DefaultClass is 'gold'; it must be one of the classes: interactive, standard, batch.",
                "Scheduling:StepsOnDevicePerClass is 0; it must be from 1 to 64.",
                "Scheduling:ShareWindowMs is 5; it must be from 10 to 60000.",
            ],
            result.Failures);
    }

    [Fact]
    public void The_default_tenants_are_valid()
    {
        var errors = new SettingErrors(TenantsOptions.SectionName);

        new TenantsOptions().Validate(errors, ["interactive", "standard", "batch"]);

        Assert.Empty(errors.Messages);
    }

    [Fact]
    public void Tenant_limits_are_checked_by_key_for_the_default_and_each_uid()
    {
        var tenants = new TenantsOptions
        {
            Default = new() { Weight = 0, MaxLeases = -1, GpuSecondsPerDay = 90_000, HighestClass = "gold" },
            Uids =
            {
                ["1000"] = new() { Weight = 2000, GpuSecondsPerDay = double.NaN },
                ["01000"] = new(),
                ["alice"] = new() { HighestClass = "batch" },
            },
        };
        var errors = new SettingErrors(TenantsOptions.SectionName);

        tenants.Validate(errors, ["interactive", "standard", "batch"]);

        Assert.Equal(
            [
                "Tenants:Default:Weight is 0; it must be above 0 and at most 1000.",
                "Tenants:Default:MaxLeases is -1; it must be from 0 to 65536.",
                "Tenants:Default:GpuSecondsPerDay is 90000; it must be from 0 to 86400.",
                "Tenants:Default:HighestClass is 'gold'; it must be one of the classes (interactive, standard, batch), or empty for any.",
                "Tenants:Uids:1000:Weight is 2000; it must be above 0 and at most 1000.",
                "Tenants:Uids:1000:GpuSecondsPerDay is NaN; it must be from 0 to 86400.",
                "Tenants:Uids:01000 does not name a uid; the keys of Tenants:Uids are uids in decimal, such as 1000.",
                "Tenants:Uids:alice does not name a uid; the keys of Tenants:Uids are uids in decimal, such as 1000.",
            ],
            errors.Messages);
    }

    private static ValidateOptionsResult Validate<T>(T options)
        where T : class, IDaemonSettings => new SettingsValidator<T>().Validate(Options.DefaultName, options);
}
