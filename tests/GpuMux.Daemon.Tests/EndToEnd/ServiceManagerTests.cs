using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using GpuMux.Client;
using GpuMux.Daemon.Hosting;
using GpuMux.Daemon.Tests.Hosting;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// gpumuxd in a process of its own, started by the test process rather than by systemd, with a
/// notification socket the test owns, as a service manager or a container runtime would start it.
/// </summary>
public sealed class ServiceManagerTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_daemon_whose_parent_is_not_systemd_speaks_the_notify_protocol_and_logs_for_the_journal()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var directory = Directory.CreateTempSubdirectory("gmx-");
        var socketPath = Path.Combine(directory.FullName, "d.sock");
        var configuration = Path.Combine(directory.FullName, "gpumuxd.json");
        await File.WriteAllTextAsync(configuration, "{}", cancellation);
        using var manager = NotifySocket.Abstract();
        var output = new ConcurrentQueue<string>();
        using var daemon = StartDaemon(socketPath, configuration, directory.FullName, manager.Address, output);
        try
        {
            var ready = await manager.ReceiveAsync(message => message.Contains("READY=1", StringComparison.Ordinal));
            Assert.Contains("STATUS=serving ", ready);
            Assert.Equal("WATCHDOG=1", await manager.ReceiveAsync(message => message.StartsWith("WATCHDOG=", StringComparison.Ordinal)));

            await using (var client = await GpuMuxClient.ConnectAsync(new() { Host = socketPath, ClientName = "notify-test" }, cancellation))
            {
                await client.GetStatusAsync(cancellation);
                // The figures are read every 5 s: the first may come before the session.
                var figures = await manager.ReceiveAsync(message => message.StartsWith("STATUS=", StringComparison.Ordinal) && message.Contains("; 1 session, ", StringComparison.Ordinal));
                Assert.Contains(" steps/s, device pool ", figures);
            }

            var before = ServiceManagerNotifier.MonotonicMicroseconds(Stopwatch.GetTimestamp());
            Assert.Equal(0, Tmds.Linux.LibC.kill(daemon.Id, Tmds.Linux.LibC.SIGHUP));
            var reloading = await manager.ReceiveAsync(message => message.Contains("RELOADING=1", StringComparison.Ordinal));
            var after = ServiceManagerNotifier.MonotonicMicroseconds(Stopwatch.GetTimestamp());
            var monotonic = reloading.Split('\n').Single(line => line.StartsWith("MONOTONIC_USEC=", StringComparison.Ordinal))["MONOTONIC_USEC=".Length..];
            Assert.InRange(long.Parse(monotonic, CultureInfo.InvariantCulture), before, after);
            Assert.Equal("READY=1", await manager.ReceiveAsync(message => !message.StartsWith("WATCHDOG=", StringComparison.Ordinal) && !message.StartsWith("STATUS=", StringComparison.Ordinal)));

            // A change the daemon finds in its file by itself is a reload as well.
            await File.WriteAllTextAsync(configuration, """{ "Limits": { "MaxSessions": 64 } }""", cancellation);
            Assert.Contains("RELOADING=1", await manager.ReceiveAsync(message => !message.StartsWith("WATCHDOG=", StringComparison.Ordinal) && !message.StartsWith("STATUS=", StringComparison.Ordinal)));
            Assert.Equal("READY=1", await manager.ReceiveAsync(message => !message.StartsWith("WATCHDOG=", StringComparison.Ordinal) && !message.StartsWith("STATUS=", StringComparison.Ordinal)));

            Assert.Equal(0, Tmds.Linux.LibC.kill(daemon.Id, Tmds.Linux.LibC.SIGTERM));
            Assert.Equal("STOPPING=1", await manager.ReceiveAsync(message => message.StartsWith("STOPPING=", StringComparison.Ordinal)));
            await daemon.WaitForExitAsync(cancellation);
            Assert.Equal(0, daemon.ExitCode);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill();
                await daemon.WaitForExitAsync(CancellationToken.None);
            }
            directory.Delete(recursive: true);
        }

        // Under systemd each line starts with its syslog priority, <6> for information.
        var lines = output.ToArray();
        Assert.Contains(lines, line => line.StartsWith($"<6>GpuMux.Daemon.Hosting.StartLine[550] gpumuxd {StartLine.Version} started as pid {daemon.Id}: configuration {configuration}, backend Sim, device ", StringComparison.Ordinal));
        Assert.Single(lines, line => line.Contains("Session 1 opened", StringComparison.Ordinal));
        var closed = Assert.Single(lines, line => line.Contains("Session 1 ", StringComparison.Ordinal) && line.Contains(" closed", StringComparison.Ordinal));
        Assert.Contains("of notify-test (pid ", closed);
        Assert.Contains($"uid {Tmds.Linux.LibC.geteuid()})", closed);
    }

    /// <summary>gpumuxd on the Sim as its unit would start it, its watchdog every half second, logging to its standard output.</summary>
    private static Process StartDaemon(string socketPath, string configuration, string directory, string notifySocket, ConcurrentQueue<string> output)
    {
        var dotnet = DotnetHost.Path;
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            Environment =
            {
                ["NOTIFY_SOCKET"] = notifySocket,
                ["WATCHDOG_USEC"] = "1000000",
                ["INVOCATION_ID"] = "0123456789abcdef0123456789abcdef",
            },
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "gpumuxd.dll"),
                "--config", configuration,
                "--socket", socketPath,
                "--backend", "sim",
                "--sim-memory-mib", "256",
                "--Socket:Group=",
                $"--Device:ModuleCacheDirectory={Path.Combine(directory, "modules")}",
                "--Logging:LogLevel:Default=Information",
            },
        };
        var daemon = Process.Start(start) ?? throw new InvalidOperationException("gpumuxd did not start");
        daemon.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                output.Enqueue(line.Data);
            }
        };
        daemon.BeginOutputReadLine();
        return daemon;
    }
}
