using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using GpuMux.Daemon;
using GpuMux.Gpu;

namespace GpuMux.Bench.Protocol;

/// <summary>
/// <c>GpuMux.Bench steps</c>: empty steps through a real gpumuxd against a raw Unix-socket echo, with
/// 1, 8 and 64 in flight on one connection and on each of 16, and what each side allocates per step.
/// The daemon (and the echo) run in this process and each client in a process of its own, so that
/// GC.GetTotalAllocatedBytes(precise) counts one side alone: the daemon's process does nothing else
/// while a client runs, and reads the client's "done" into a buffer it already has.
/// </summary>
internal static class StepPathCommand
{
    public const string Usage = """
        usage: GpuMux.Bench steps [--out DIR] [--steps N]

          --out    also write a raw results file, steps-<utc time>-<backend>.md, into DIR
          --steps  steps (and echoes) per measurement (default 100000)

        The daemon runs on the Sim backend unless GPUMUX_BENCH_BACKEND=cuda (or auto).
        Run it from a Release build: dotnet run -c Release --project bench/GpuMux.Bench -- steps --out bench/results
        """;

    private static readonly (int Connections, int Depth)[] Shapes = [(1, 1), (1, 8), (1, 64), (16, 1), (16, 8), (16, 64)];

    public static int Run(IReadOnlyList<string> args)
    {
        if (args is ["--client", var socketPath, var kind, var connections, var depth, var count])
        {
            return StepPathClient.Run(socketPath, kind == "raw", Number(connections), Number(depth), Number(count));
        }

        string? outputDirectory = null;
        var steps = 100_000;
        for (var i = 0; i < args.Count; i += 2)
        {
            switch (args[i], i + 1 < args.Count ? args[i + 1] : null)
            {
                case ("--out", { } output):
                    outputDirectory = output;
                    break;
                case ("--steps", { } value) when int.TryParse(value, CultureInfo.InvariantCulture, out steps) && steps >= 1_000:
                    break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        var environment = RunEnvironment.Capture();
        var directory = Directory.CreateTempSubdirectory("gmx-steps-");
        try
        {
            var rows = Measure(directory.FullName, steps);
            var table = new StringWriter(CultureInfo.InvariantCulture);
            TextTable.Write(table, [["connections", "in flight", "steps/s", "echoes/s", "ratio", "step p50 us", "echo p50 us", "daemon B/step", "client B/step"], .. rows], rightAligned: [0, 1, 2, 3, 4, 5, 6, 7, 8]);
            Console.WriteLine(table);
            if (outputDirectory is not null)
            {
                var backend = Enum.Parse<GpuBackendKind>(RoundTripBenchmarks.Backend, ignoreCase: true);
                using var file = ResultsFile.Create(outputDirectory, "steps", environment.StartedUtc, backend, "Empty steps against a raw Unix-socket echo");
                file.Section(null, writer => TextTable.Write(writer, [.. environment.Fields(), ["steps per row", steps.ToString(CultureInfo.InvariantCulture)]], rightAligned: []));
                file.Section("Rates and allocations (goals: 0 B per step on each side; round trip <= 1.5x the echo by median)", writer => writer.Write(table));
                Console.WriteLine($"raw results: {file.Path}");
            }

            return 0;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static List<string[]> Measure(string directory, int steps)
    {
        var daemonSocket = Path.Combine(directory, "d.sock");
        var echoSocket = Path.Combine(directory, "echo.sock");
        using var daemon = DaemonHost.Build(["--socket", daemonSocket, "--backend", RoundTripBenchmarks.Backend, "--Socket:Group=", "--Logging:LogLevel:Default=Error"]);
        daemon.StartAsync().GetAwaiter().GetResult();
        using var echo = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        echo.Bind(new UnixDomainSocketEndPoint(echoSocket));
        echo.Listen(64);
        _ = Task.Run(() => EchoAcceptAsync(echo));
        var rows = new List<string[]>();
        foreach (var (connections, depth) in Shapes)
        {
            var step = RunClient(daemonSocket, "step", connections, depth, steps);
            var raw = RunClient(echoSocket, "raw", connections, depth, steps);
            rows.Add([
                Text(connections), Text(depth), Text(step.Rate), Text(raw.Rate), Ratio(raw.Rate, step.Rate),
                Micros(step.MedianNs), Micros(raw.MedianNs), PerStep(step.ServerBytes, steps), PerStep(step.ClientBytes, steps),
            ]);
        }

        daemon.StopAsync().GetAwaiter().GetResult();
        return rows;
    }

    private static (double Rate, long MedianNs, long ServerBytes, long ClientBytes) RunClient(string socketPath, string kind, int connections, int depth, int steps)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(StepPathCommand).Assembly.Location);
        }

        foreach (var argument in (string[])["steps", "--client", socketPath, kind, Argument(connections), Argument(depth), Argument(steps)])
        {
            start.ArgumentList.Add(argument);
        }

        using var client = Process.Start(start)!;
        if (client.StandardOutput.ReadLine() != "ready")
        {
            throw new InvalidOperationException($"the {kind} client did not start");
        }

        // From here to the client's last line this process only serves it: the line is read into a
        // buffer made before the count starts.
        var line = new byte[256];
        var go = "go\n"u8.ToArray();
        var output = client.StandardOutput.BaseStream;
        var before = GC.GetTotalAllocatedBytes(precise: true);
        client.StandardInput.BaseStream.Write(go);
        client.StandardInput.BaseStream.Flush();
        var length = 0;
        while (length == 0 || line[length - 1] != '\n')
        {
            length += output.Read(line, length, line.Length - length);
        }

        var serverBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
        client.WaitForExit();
        var fields = System.Text.Encoding.ASCII.GetString(line, 0, length).Trim().Split(' ');
        var ticks = long.Parse(fields[1], CultureInfo.InvariantCulture);
        var count = steps / connections * connections;
        return (count * (double)Stopwatch.Frequency / ticks, long.Parse(fields[3], CultureInfo.InvariantCulture), serverBytes, long.Parse(fields[2], CultureInfo.InvariantCulture));
    }

    private static async Task EchoAcceptAsync(Socket listener)
    {
        while (true)
        {
            var connection = await listener.AcceptAsync();
            _ = Task.Run(() => EchoAsync(connection));
        }
    }

    /// <summary>Answers each whole request with a reply of the completion's size.</summary>
    private static async Task EchoAsync(Socket connection)
    {
        var received = new byte[StepPathClient.RequestBytes * 64];
        var replies = new byte[StepPathClient.ReplyBytes * 64];
        long pending = 0;
        int count;
        while ((count = await connection.ReceiveAsync(received, SocketFlags.None)) > 0)
        {
            pending += count;
            var whole = (int)(pending / StepPathClient.RequestBytes);
            pending -= whole * StepPathClient.RequestBytes;
            if (whole > 0)
            {
                await connection.SendAsync(replies.AsMemory(0, whole * StepPathClient.ReplyBytes), SocketFlags.None);
            }
        }

        connection.Dispose();
    }

    private static int Number(string text) => int.Parse(text, CultureInfo.InvariantCulture);

    private static string Argument(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ratio(double raw, double step) => (raw / step).ToString("F2", CultureInfo.InvariantCulture) + "x";

    private static string Micros(long nanoseconds) => nanoseconds == 0 ? "-" : (nanoseconds / 1000.0).ToString("F1", CultureInfo.InvariantCulture);

    private static string PerStep(long bytes, int steps) => ((double)bytes / steps).ToString("F2", CultureInfo.InvariantCulture);
}
