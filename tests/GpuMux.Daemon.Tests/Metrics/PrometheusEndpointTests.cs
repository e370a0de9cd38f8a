using System.Globalization;
using System.Net.Sockets;
using GpuMux.Client;
using GpuMux.Daemon.Tests.EndToEnd;

namespace GpuMux.Daemon.Tests.Metrics;

/// <summary>A daemon's Prometheus endpoint, scraped over its Unix socket after clients have worked.</summary>
public sealed class PrometheusEndpointTests
{
    private const int Clients = 4;
    private const int StepsEach = 15;
    private const int LateEach = 3;

    [Fact]
    public async Task The_counters_add_up_to_what_the_clients_did()
    {
        var socket = Path.Combine(Directory.CreateTempSubdirectory("gmx-metrics-").FullName, "metrics.sock");
        await using var daemon = await TestDaemon.StartAsync($"--Metrics:Prometheus=unix:{socket}");
        var cancellation = TestContext.Current.CancellationToken;

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => Task.Run(
            async () =>
            {
                await using var client = await daemon.ConnectAsync($"load-{i}");
                await Workloads.AxpyAsync(client, seed: i, StepsEach);
                for (var late = 0; late < LateEach; late++)
                {
                    await Assert.ThrowsAsync<DeadlineMissedException>(() => client.SubmitAsync(new StepBuilder().Deadline(1, failIfLate: true), cancellation).AsTask());
                }
            },
            cancellation)));
        var samples = Parse(await ScrapeAsync(socket));

        Assert.Equal(Clients * StepsEach, Sum(samples, "gpumux_steps_total", ("outcome", "ok"), ("class", "standard")));
        Assert.Equal(Clients * LateEach, Sum(samples, "gpumux_steps_total", ("outcome", "deadline_missed")));
        Assert.Equal(Clients * (StepsEach + LateEach), Sum(samples, "gpumux_steps_total"));
        // Only the steps that ran have a device time and a queueing delay.
        Assert.Equal(Clients * StepsEach, Sum(samples, "gpumux_step_device_time_seconds_count"));
        Assert.Equal(Clients * StepsEach, Sum(samples, "gpumux_step_queue_delay_seconds_count"));
        Assert.Equal(Clients * StepsEach, Sum(samples, "gpumux_step_device_time_seconds_bucket", ("le", "+Inf")));
        Assert.True(Sum(samples, "gpumux_gpu_busy_time_seconds_total") > 0);
        Assert.Equal(Clients, Sum(samples, "gpumux_sessions_opened_total"));
        Assert.Equal(Clients, Sum(samples, "gpumux_connections_accepted_total"));
        Assert.True(Sum(samples, "gpumux_device_pool_limit_bytes") > 0);
        // Every engine series carries the device's labels, spelled as DCGM's exporter spells them.
        Assert.All(
            samples.Where(s => s.Name.StartsWith("gpumux_step", StringComparison.Ordinal)),
            s => Assert.True(s.Labels["gpu"] == "0" && s.Labels["pci_bus_id"] == "sim:0" && s.Labels["UUID"].StartsWith("GPU-", StringComparison.Ordinal), s.Line));
    }

    [Fact]
    public async Task Spills_and_restores_are_counted_in_bytes_and_the_bytes_spilled_now_are_a_gauge()
    {
        const ulong page = 2UL << 20;
        var socket = Path.Combine(Directory.CreateTempSubdirectory("gmx-metrics-").FullName, "metrics.sock");
        await using var daemon = await TestDaemon.StartAsync(
            $"--Metrics:Prometheus=unix:{socket}",
            $"--Memory:DevicePoolBytes={(2 * page).ToString(CultureInfo.InvariantCulture)}",
            "--Memory:PinnedPoolBytes=67108864");
        var cancellation = TestContext.Current.CancellationToken;
        await using var client = await daemon.ConnectAsync("spills");
        var buffers = new List<DeviceBuffer>();
        for (var i = 0; i < 3; i++)
        {
            buffers.Add(await client.AllocateBufferAsync(page, spillable: true, cancellation));
        }
        await using var region = await client.CreateRegionAsync(page, cancellation);

        await client.SubmitAsync(new StepBuilder().CopyOut(buffers[0], 0, region, 0, page), cancellation);
        var samples = Parse(await ScrapeAsync(socket));

        // The third allocation spilled the first buffer; bringing it back spilled the second.
        Assert.Equal(2 * (double)page, Sum(samples, "gpumux_buffer_spill_bytes_total"));
        Assert.Equal((double)page, Sum(samples, "gpumux_buffer_restore_bytes_total"));
        Assert.Equal((double)page, Sum(samples, "gpumux_buffer_spilled_bytes"));
    }

    [Fact]
    public async Task Each_completion_written_of_a_step_that_ran_is_one_observation_of_the_completion_delay()
    {
        var socket = Path.Combine(Directory.CreateTempSubdirectory("gmx-metrics-").FullName, "metrics.sock");
        await using var daemon = await TestDaemon.StartAsync($"--Metrics:Prometheus=unix:{socket}");
        var cancellation = TestContext.Current.CancellationToken;
        await using (var client = await daemon.ConnectAsync("completions"))
        {
            await Workloads.AxpyAsync(client, seed: 1, StepsEach);
            for (var late = 0; late < LateEach; late++)
            {
                await Assert.ThrowsAsync<DeadlineMissedException>(() => client.SubmitAsync(new StepBuilder().Deadline(1, failIfLate: true), cancellation).AsTask());
            }
        }

        // The daemon observes a completion once its frame is written, which may be just after the
        // client has read it: the count is read again until it stops short no longer.
        const string count = "gpumux_completion_delay_seconds_count";
        var samples = Parse(await ScrapeAsync(socket));
        for (var tries = 0; tries < 100 && Sum(samples, count) < StepsEach; tries++)
        {
            await Task.Delay(100, cancellation);
            samples = Parse(await ScrapeAsync(socket));
        }

        // Steps refused before they ran have no end to time from.
        Assert.Equal(StepsEach, Sum(samples, count));
        Assert.Equal(StepsEach, Sum(samples, count, ("class", "standard")));
        Assert.Equal(StepsEach, Sum(samples, "gpumux_completion_delay_seconds_bucket", ("le", "+Inf")));
    }

    [Fact]
    public async Task Other_paths_are_not_found()
    {
        var socket = Path.Combine(Directory.CreateTempSubdirectory("gmx-metrics-").FullName, "metrics.sock");
        await using var daemon = await TestDaemon.StartAsync($"--Metrics:Prometheus=unix:{socket}");
        using var http = HttpOver(socket);

        using var response = await http.GetAsync(new Uri("http://gpumuxd/"), TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Requests_that_are_no_HTTP_too_long_or_never_sent_are_refused_and_scrapes_go_on()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var socket = Path.Combine(Directory.CreateTempSubdirectory("gmx-metrics-").FullName, "metrics.sock");
        await using var daemon = await TestDaemon.StartAsync($"--Metrics:Prometheus=unix:{socket}");

        // Clients that connect and say nothing hold every scrape slot but one for their timeout.
        var silent = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            silent.Add(await RawAsync(socket));
        }
        try
        {
            var tooLong = Enumerable.Repeat((byte)'A', 64 << 10).ToArray();
            foreach (var request in new[] { tooLong, "GARBAGE\r\n\r\n"u8.ToArray(), "GET /metrics SPDY/9\r\n\r\n"u8.ToArray() })
            {
                using var client = await RawAsync(socket);
                try
                {
                    await client.SendAsync(request, SocketFlags.None, cancellation);
                }
                catch (SocketException)
                {
                    // The endpoint stopped reading at its limit and closed: refused all the same.
                }
                var reply = new byte[256];
                var read = await client.ReceiveAsync(reply, SocketFlags.None, cancellation);
                Assert.True(read == 0 || System.Text.Encoding.ASCII.GetString(reply, 0, read).StartsWith("HTTP/1.1 400", StringComparison.Ordinal));
            }

            Assert.Contains("gpumux_sessions", await ScrapeAsync(socket));
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
    }

    private static async Task<Socket> RawAsync(string socket)
    {
        var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), TestContext.Current.CancellationToken);
        return connection;
    }

    private static async Task<string> ScrapeAsync(string socket)
    {
        using var http = HttpOver(socket);
        using var response = await http.GetAsync(new Uri("http://gpumuxd/metrics"), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    private static HttpClient HttpOver(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
            return new NetworkStream(connection, ownsSocket: true);
        },
    });

    private static double Sum(IEnumerable<Sample> samples, string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);

    /// <summary>The samples of an exposition in the text format; the label values here hold no escaped quotes.</summary>
    private static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            var labels = new Dictionary<string, string>();
            if (brace >= 0)
            {
                foreach (var pair in line[(brace + 1)..line.LastIndexOf('}')].Split("\","))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..equals]] = pair[(equals + 2)..].TrimEnd('"');
                }
            }
            samples.Add(new Sample(brace >= 0 ? line[..brace] : line[..space], labels, double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture), line));
        }
        return samples;
    }

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value, string Line);
}
