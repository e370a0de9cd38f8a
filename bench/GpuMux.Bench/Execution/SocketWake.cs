using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using GpuMux.Daemon;
using GpuMux.Daemon.Device;
using GpuMux.Daemon.Metrics;
using GpuMux.Engine.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace GpuMux.Bench.Execution;

/// <summary>
/// The same steps through gpumuxd: the daemon on the Sim backend in this process, so that its
/// engine thread's CPU is read as in-process and its completion delay metric
/// (<see cref="DaemonMeter.CompletionDelayName"/>) is heard measurement by measurement; the .NET
/// client in a process of its own (<see cref="SocketWakeClient"/>), which times each completion
/// as its caller resumes. Every time is on CLOCK_MONOTONIC, the origin of the step's end time, so
/// written and delivered are both measured from the step's end on the device.
/// </summary>
internal static class SocketWake
{
    /// <summary>The measured client's steps run in the default class, the load's in a batch lease: the metric's class label tells them apart.</summary>
    public const string MeasuredClass = "standard";
    public const string LoadClass = "batch";

    public static List<WakeRow> Measure(WakeOptions options)
    {
        var directory = Directory.CreateTempSubdirectory("gmx-wake-");
        try
        {
            var socket = Path.Combine(directory.FullName, "d.sock");
            using var daemon = DaemonHost.Build(["--socket", socket, "--backend", "sim", "--Socket:Group=", "--Logging:LogLevel:Default=Error"], reloadOnHangup: false);
            daemon.StartAsync().GetAwaiter().GetResult();
            using var written = new CompletionDelays();
            var clock = new EngineThreadClock(daemon.Services.GetRequiredService<EngineService>().Engine);
            using var client = StartClient(socket, options.Steps);

            var before = clock.Read();
            Thread.Sleep(options.Idle);
            List<WakeRow> rows = [new WakeRow(options.IdleCase, [], [], clock.Read() - before)];
            foreach (var (command, name) in new[] { ("idle", WakeOptions.IdleDeviceCase), ("load", WakeOptions.LoadedCase) })
            {
                written.Clear();
                before = clock.Read();
                var delivered = Ask(client, command);
                var cost = clock.Read() - before;
                rows.Add(new WakeRow(name, written.Take(), delivered, cost));
            }

            client.StandardInput.WriteLine("end");
            client.WaitForExit();
            daemon.StopAsync().GetAwaiter().GetResult();
            return rows;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static Process StartClient(string socket, int steps)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SocketWake).Assembly.Location);
        }
        foreach (var argument in (string[])["wake", "--client", socket, steps.ToString(CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(argument);
        }
        var client = Process.Start(start)!;
        if (client.StandardOutput.ReadLine() != "ready")
        {
            throw new InvalidOperationException("the wake client did not start");
        }
        return client;
    }

    /// <summary>Runs one case in the client: its line back is "done" and each step's end to delivered, in microseconds.</summary>
    private static List<double> Ask(Process client, string command)
    {
        client.StandardInput.WriteLine(command);
        client.StandardInput.Flush();
        var line = client.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the wake client ended early");
        return [.. line.Split(' ').Skip(1).Select(value => double.Parse(value, CultureInfo.InvariantCulture))];
    }

    /// <summary>
    /// Hears the daemon's completion delay for the measured class, each measurement as it is
    /// recorded, into an array made up front: the listener runs on the daemon's sending thread.
    /// </summary>
    private sealed class CompletionDelays : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly double[] _microseconds = new double[1 << 20];
        private int _count;

        public CompletionDelays()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GpuLabels.MeterName && instrument.Name == DaemonMeter.CompletionDelayName)
                {
                    listener.EnableMeasurementEvents(instrument, this);
                }
            };
            _listener.SetMeasurementEventCallback<double>(static (_, seconds, tags, state) => ((CompletionDelays)state!).Record(seconds, tags));
            _listener.Start();
        }

        public void Clear() => Volatile.Write(ref _count, 0);

        public List<double> Take() => [.. _microseconds.AsSpan(0, Math.Min(Volatile.Read(ref _count), _microseconds.Length))];

        public void Dispose() => _listener.Dispose();

        private void Record(double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "class", Value: MeasuredClass })
                {
                    var index = Interlocked.Increment(ref _count) - 1;
                    if (index < _microseconds.Length)
                    {
                        _microseconds[index] = seconds * 1e6;
                    }
                }
            }
        }
    }
}
