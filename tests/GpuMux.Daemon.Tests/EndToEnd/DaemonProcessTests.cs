using GpuMux.Daemon.Hosting;
using static Tmds.Linux.LibC;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>gpumuxd's process as an operator meets it: its command line, its start-up failures, SIGHUP, what it costs the system.</summary>
public sealed class DaemonProcessTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gmx-process-");

    private string SocketPath => Path.Combine(_directory.FullName, "d.sock");

    private string ConfigurationFile => Path.Combine(_directory.FullName, "gpumuxd.json");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Help_shows_the_usage_and_starts_no_daemon()
    {
        var (exitCode, output, _) = await GpumuxdProcess.RunAsync("--help", "--socket", SocketPath);

        Assert.Equal(0, exitCode);
        Assert.Contains(output, line => line.StartsWith("Usage:", StringComparison.Ordinal));
        Assert.Contains(output, line => line.Contains("--check-config", StringComparison.Ordinal));
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public async Task The_version_is_shown_and_no_daemon_started()
    {
        var (exitCode, output, _) = await GpumuxdProcess.RunAsync("--version");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", Assert.Single(output));
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public async Task An_unknown_option_is_refused_with_the_usage_and_status_64()
    {
        var (exitCode, output, error) = await GpumuxdProcess.RunAsync("--sokcet", SocketPath);

        Assert.Equal(DaemonExitCode.Usage, exitCode);
        Assert.Contains(error, line => line.Contains("'--sokcet'", StringComparison.Ordinal));
        Assert.Contains(output, line => line.StartsWith("Usage:", StringComparison.Ordinal));
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public async Task A_file_that_is_not_JSON_stops_the_start_with_one_line_and_status_78()
    {
        File.WriteAllText(ConfigurationFile, """{ "Limits": { "MaxSessions": 3 """);

        var (exitCode, _, error) = await GpumuxdProcess.RunAsync("--config", ConfigurationFile, "--socket", SocketPath, "--backend", "sim");

        Assert.Equal(DaemonExitCode.Configuration, exitCode);
        Assert.StartsWith($"gpumuxd: {ConfigurationFile} is not valid JSON at line 1", Assert.Single(error));
    }

    [Fact]
    public async Task An_invalid_setting_stops_the_start_with_a_line_naming_it_and_no_stack_trace()
    {
        var (exitCode, _, error) = await GpumuxdProcess.RunAsync("--socket", SocketPath, "--backend", "sim", "--Limits:MaxSessions=0");

        Assert.Equal(DaemonExitCode.Configuration, exitCode);
        Assert.Equal(["gpumuxd: Limits:MaxSessions is 0; it must be from 1 to 65536."], error);
    }

    [Fact]
    public async Task Check_config_says_what_is_wrong_with_a_file_and_that_a_good_one_is_valid()
    {
        File.WriteAllText(ConfigurationFile, """{ "Limits": { "MaxSesions": 3, "MaxFramePayloadBytes": 100 } }""");
        var bad = await GpumuxdProcess.RunAsync("--check-config", ConfigurationFile);
        File.WriteAllText(ConfigurationFile, """{ "Limits": { "MaxSessions": 3 } }""");
        var good = await GpumuxdProcess.RunAsync("--check-config", ConfigurationFile);

        Assert.Equal(DaemonExitCode.Configuration, bad.ExitCode);
        Assert.Equal(
            [
                "gpumuxd: Limits:MaxSesions is not a setting gpumuxd knows, so it has no effect; the nearest one is Limits:MaxSessions.",
                "gpumuxd: Limits:MaxFramePayloadBytes is 100; it must be from 4096 to 16777216.",
            ],
            bad.Error);
        Assert.Equal((0, $"{ConfigurationFile}: valid"), (good.ExitCode, Assert.Single(good.Output)));
    }

    [Fact]
    public async Task Started_in_the_root_directory_the_daemon_watches_no_directories()
    {
        using var gpumuxd = StartDaemon(workingDirectory: "/");
        await gpumuxd.WaitForOutputAsync("GpuMux.Daemon.Connections.SocketServer[300]");

        // The host's default appsettings.json watcher in the working directory / watched every directory of the machine.
        Assert.Equal(0, InotifyWatches(gpumuxd.Id));
    }

    [Fact]
    public async Task SIGHUP_with_a_file_that_is_not_JSON_keeps_the_daemon_and_its_configuration()
    {
        File.WriteAllText(ConfigurationFile, """{ "Tenants": { "Default": { "MaxLeases": 1 } } }""");
        using var gpumuxd = StartDaemon(workingDirectory: _directory.FullName, "--config", ConfigurationFile);
        await gpumuxd.WaitForOutputAsync("GpuMux.Daemon.Connections.SocketServer[300]");

        File.WriteAllText(ConfigurationFile, """{ "Tenants": { "Default": { "MaxLeases": 2 }, } """);
        gpumuxd.Signal(SIGHUP);
        await gpumuxd.WaitForOutputAsync("GpuMux.Daemon.Configuration.ConfigurationReload[512]");

        await using var client = await GpuMux.Client.GpuMuxClient.ConnectAsync(new() { Host = SocketPath, ClientName = "reload" }, TestContext.Current.CancellationToken);
        Assert.Equal(1u, Assert.Single((await client.GetTenantsAsync(TestContext.Current.CancellationToken)).Tenants).MaxLeases);
        gpumuxd.Signal(SIGTERM);
        Assert.Equal(0, await gpumuxd.WaitForExitAsync());
    }

    private GpumuxdProcess StartDaemon(string workingDirectory, params string[] args) => GpumuxdProcess.Start(
        workingDirectory,
        [
            "--socket", SocketPath,
            "--backend", "sim",
            "--sim-memory-mib", "64",
            "--Socket:Group=",
            $"--Device:ModuleCacheDirectory={Path.Combine(_directory.FullName, "modules")}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:GpuMux.Daemon.Connections.SocketServer=Information",
            .. args,
        ]);

    /// <summary>The inotify watches a process holds, as /proc/PID/fdinfo lists them for each of its inotify descriptors.</summary>
    private static int InotifyWatches(int pid) => Directory.GetFiles($"/proc/{pid}/fd")
        .Where(fd => new FileInfo(fd).LinkTarget == "anon_inode:inotify")
        .Sum(fd => File.ReadLines($"/proc/{pid}/fdinfo/{Path.GetFileName(fd)}").Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal)));
}
