using System.Diagnostics;
using System.Globalization;
using GpuMux.Client;
using GpuMux.Robustness.Counting;
using GpuMux.Robustness.Daemon;

namespace GpuMux.Robustness;

/// <summary>
/// What every scenario does around its own work: a daemon of its own (restarted after a death,
/// each death counted), its resources sampled before and after, a check that every session closed
/// once its client left, and a SIGTERM at the end that must end it promptly and cleanly.
/// </summary>
internal sealed class ScenarioRun : IAsyncDisposable
{
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private readonly RunSettings _settings;
    private readonly string _name;
    private readonly List<(string, string)> _figures = [];
    private ResourceSample? _after;
    private bool _terminated;
    private readonly bool _faultsExpected;

    private ScenarioRun(string name, RunSettings settings, Counts counts, Notes notes, Counter deaths, DaemonSupervisor daemon, bool faultsExpected)
    {
        _faultsExpected = faultsExpected;
        _name = name;
        _settings = settings;
        Counts = counts;
        Notes = notes;
        Deaths = deaths;
        Daemon = daemon;
    }

    public Counts Counts { get; }

    public Notes Notes { get; }

    public DaemonSupervisor Daemon { get; }

    public Counter Deaths { get; }

    public RunSettings Settings => _settings;

    public ResourceSample? Before { get; private set; }

    /// <param name="faultsExpected">
    /// Whether the scenario's clients send kernels that may fault the device (mutated launches);
    /// where they do not, every device fault is a failure.
    /// </param>
    public static async Task<ScenarioRun> StartAsync(string name, RunSettings settings, CancellationToken cancellationToken, bool faultsExpected = false)
    {
        settings.Progress($"{name}: starting gpumuxd");
        var counts = new Counts();
        var notes = new Notes();
        var deaths = counts.Failure("daemon deaths");
        var daemon = await DaemonSupervisor.StartAsync(settings.DaemonFor(name), deaths, notes, cancellationToken);
        return new ScenarioRun(name, settings, counts, notes, deaths, daemon, faultsExpected);
    }

    /// <summary>Takes the "before" sample: call once the daemon is as it should be after the scenario too.</summary>
    public void MarkBaseline() => Before = Daemon.Current.Sample();

    public void Figure(string name, string value) => _figures.Add((name, value));

    public void Figure(string name, LatencySummary? latency)
    {
        if (latency is { } l)
        {
            Figure(name, string.Create(CultureInfo.InvariantCulture, $"p50 {l.MedianMs:F2} ms, p99 {l.P99Ms:F2} ms, max {l.MaxMs:F1} ms ({l.Samples} samples)"));
        }
    }

    /// <summary>
    /// Polls the daemon's status until only the asking session is left, up to the hang bound;
    /// returns how many other sessions stayed open (0 when all closed), or null when it cannot be asked.
    /// </summary>
    public async Task<long?> WaitForSessionsToCloseAsync(CancellationToken cancellationToken)
    {
        if (!await Daemon.WaitUntilUpAsync(cancellationToken))
        {
            return null;
        }

        try
        {
            await using var observer = await GpuMuxClient.ConnectAsync(new() { Host = Daemon.SocketPath, ClientName = "observer" }, cancellationToken)
                .WaitAsync(_settings.HangBound, cancellationToken);
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var status = await observer.GetStatusAsync(cancellationToken).WaitAsync(_settings.HangBound, cancellationToken);
                var others = status.SessionsTotal - 1L;
                if (others == 0 || waited.Elapsed > _settings.HangBound)
                {
                    return others;
                }

                await Task.Delay(20, cancellationToken);
            }
        }
        catch (Exception e) when (e is GpuMuxException or IOException or TimeoutException)
        {
            Notes.Add("status unavailable after the scenario", e.Message);
            return null;
        }
    }

    /// <summary>
    /// Samples the daemon (the "after"), then stops it with SIGTERM: it must exit within the
    /// shutdown bound, with status 0. Once only; <see cref="FinishAsync"/> does it if the scenario did not.
    /// </summary>
    public async Task TerminateAsync()
    {
        if (_terminated)
        {
            return;
        }

        _terminated = true;
        _after = Daemon.Current.Sample();
        await Daemon.DetachAsync();
        var late = Counts.Failure($"SIGTERM: no exit within {_settings.ShutdownBound.TotalSeconds:0} s");
        var unclean = Counts.Failure("SIGTERM: exit status other than 0");
        var daemon = Daemon.Current;
        if (!daemon.HasExited)
        {
            _settings.Progress($"{_name}: SIGTERM");
            var (prompt, elapsed) = await daemon.TerminateAsync(_settings.ShutdownBound);
            late.Set(prompt ? 0 : 1);
            unclean.Set(prompt && daemon.ExitCode != 0 ? 1 : 0);
            Figure("SIGTERM to exit", prompt ? $"{elapsed.TotalMilliseconds:F0} ms ({daemon.ExitDescription})" : "killed after the bound");
        }
    }

    /// <summary>Checks that every session closed, stops the daemon (unless the scenario did), and puts the result together.</summary>
    public async Task<ScenarioResult> FinishAsync(string description, string parameters, CancellationToken cancellationToken)
    {
        var leftOpen = Counts.Failure("sessions still open after their clients left");
        if (!_terminated)
        {
            leftOpen.Set(await WaitForSessionsToCloseAsync(cancellationToken) ?? 0);
        }

        await TerminateAsync();
        var faults = _faultsExpected
            ? Counts.Tally("device faults that reset the device (mutated kernels may fault)")
            : Counts.Failure("device faults that reset the device, though no client sent a faulting kernel");
        faults.Set(Daemon.DeviceFaults);
        Counts.Tally("daemon log bytes").Set(Daemon.LogBytes);
        _settings.Progress($"{_name}: done in {_elapsed.Elapsed.TotalSeconds:F1} s");
        return new ScenarioResult(_name, description, parameters, Counts.All, Notes.Snapshot(), _figures, Before, _after, _elapsed.Elapsed);
    }

    public ValueTask DisposeAsync() => Daemon.DisposeAsync();
}
