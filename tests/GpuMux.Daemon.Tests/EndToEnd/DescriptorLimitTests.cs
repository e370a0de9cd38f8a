using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using GpuMux.Client;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// gpumuxd in a process of its own whose descriptor limit (RLIMIT_NOFILE) is low, so that a few
/// hundred connections would take every descriptor, as tens of thousands would on a host. A process
/// out of descriptors cannot start a thread: the runtime ends it ("Out of memory.", SIGABRT).
/// </summary>
public sealed partial class DescriptorLimitTests
{
    private const int DescriptorLimit = 320;
    private const int Connections = 400;

    [Fact(Timeout = 120_000)]
    public async Task At_the_descriptor_limit_the_daemon_stays_up_stops_accepting_and_accepts_again_once_connections_close()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var directory = Directory.CreateTempSubdirectory("gmx-");
        var socketPath = Path.Combine(directory.FullName, "d.sock");
        using var daemon = StartDaemon(socketPath, directory.FullName);
        var events = Events(daemon);
        var flood = new List<FrameConnection>();
        try
        {
            await events.NextOfAsync([EventIds.Listening], cancellation);

            // Every code path a session takes is loaded before the limit is reached.
            await using (var warmUp = await ConnectAsync(socketPath, cancellation))
            {
                await warmUp.GetStatusAsync(cancellation);
            }

            for (var i = 0; i < Connections; i++)
            {
                flood.Add(await FrameConnection.ConnectAsync(socketPath, 1 << 16, cancellation));
            }

            await events.NextOfAsync([EventIds.NoRoom], cancellation);
            foreach (var connection in flood)
            {
                await connection.DisposeAsync();
            }

            flood.Clear();

            // One warning when a run of failures starts, one line when it ends: never two warnings in a row.
            Assert.Equal(EventIds.RoomAgain, await events.NextOfAsync([EventIds.NoRoom, EventIds.RoomAgain], cancellation));

            await using var client = await ConnectAsync(socketPath, cancellation);
            Assert.Equal(1u, (await client.GetStatusAsync(cancellation)).SessionsTotal);
        }
        finally
        {
            foreach (var connection in flood)
            {
                await connection.DisposeAsync();
            }

            daemon.Kill();
            await daemon.WaitForExitAsync(CancellationToken.None);
            directory.Delete(recursive: true);
        }
    }

    private static Task<GpuMuxClient> ConnectAsync(string socketPath, CancellationToken cancellation) =>
        GpuMuxClient.ConnectAsync(new() { Host = socketPath, ClientName = "descriptor-limit" }, cancellation);

    /// <summary>gpumuxd on the Sim, its descriptor limit lowered by the shell it is started from, logging to its standard output.</summary>
    private static Process StartDaemon(string socketPath, string directory)
    {
        var dotnet = DotnetHost.Path;
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,

            // As on a host with many cores, the flood makes the runtime start threads, each taking a pipe as it starts.
            Environment = { ["DOTNET_PROCESSOR_COUNT"] = "16" },
            ArgumentList =
            {
                "-c", "ulimit -n \"$0\" && exec \"$@\"", DescriptorLimit.ToString(CultureInfo.InvariantCulture),
                dotnet, Path.Combine(AppContext.BaseDirectory, "gpumuxd.dll"),
                "--socket", socketPath,
                "--backend", "sim",
                "--sim-memory-mib", "256",
                "--Socket:Group=",
                $"--Device:ModuleCacheDirectory={Path.Combine(directory, "modules")}",

                // Neither limit on waiting handshakes may close the flood before the descriptors run out.
                $"--Limits:MaxPendingHandshakes={Connections}",
                "--Limits:HandshakeTimeoutMs=600000",
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:GpuMux.Daemon.Connections.SocketServer=Information",
            },
        };
        return Process.Start(start) ?? throw new InvalidOperationException("gpumuxd did not start");
    }

    /// <summary>The event ids of what the daemon's SocketServer logs, in order.</summary>
    private static ChannelReader<int> Events(Process daemon)
    {
        var events = Channel.CreateUnbounded<int>();
        daemon.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                events.Writer.TryComplete();
            }
            else if (SocketServerEvent().Match(line.Data) is { Success: true } match)
            {
                events.Writer.TryWrite(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        };
        daemon.BeginOutputReadLine();
        return events.Reader;
    }

    [GeneratedRegex(@"GpuMux\.Daemon\.Connections\.SocketServer\[(\d+)\]")]
    private static partial Regex SocketServerEvent();

    private static class EventIds
    {
        public const int Listening = 300;
        public const int NoRoom = 306;
        public const int RoomAgain = 307;
    }
}

internal static class EventReader
{
    /// <summary>The first event logged from now on that is one of <paramref name="eventIds"/>; the others before it are skipped.</summary>
    public static async Task<int> NextOfAsync(this ChannelReader<int> events, int[] eventIds, CancellationToken cancellation)
    {
        await foreach (var next in events.ReadAllAsync(cancellation))
        {
            if (eventIds.Contains(next))
            {
                return next;
            }
        }

        throw new InvalidOperationException($"gpumuxd exited before it logged any of the events {string.Join(", ", eventIds)}");
    }
}
