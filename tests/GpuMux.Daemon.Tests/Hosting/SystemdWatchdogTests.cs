using GpuMux.Daemon.Hosting;
using GpuMux.Daemon.Tests.EndToEnd;
using GpuMux.Engine;
using GpuMux.Gpu;
using GpuMux.Gpu.Sim;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace GpuMux.Daemon.Tests.Hosting;

public sealed class SystemdWatchdogTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("30000000", null, 15_000)]
    [InlineData("30000000", "", 15_000)]
    [InlineData("30000000", "42", 15_000)]
    [InlineData("1", null, 1)]
    public void The_watchdog_is_pinged_at_half_its_timeout(string usec, string? pid, int expectedMilliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), SystemdWatchdog.PingInterval(usec, pid, processId: 42));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("0", null)]
    [InlineData("soon", null)]
    [InlineData("30000000", "43")]
    [InlineData("30000000", "x")]
    public void There_is_no_watchdog_when_systemd_gave_none_to_this_process(string? usec, string? pid)
    {
        Assert.Null(SystemdWatchdog.PingInterval(usec, pid, processId: 42));
    }

    [Fact]
    public async Task Pings_stop_while_the_engine_thread_is_stuck_and_resume_when_it_answers_again()
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var engine = await GpuEngine.StartAsync(
            GpuBackends.CreateSim(new GpuBackendOptions { Sim = new SimDeviceOptions { CapacityBytes = 256UL << 20 } }),
            new EngineOptions(),
            cancellationToken: cancellation);
        var sink = new HoldingSink();
        await using var session = engine.OpenSession(new SessionIdentity(1000, 1000, 4242, "watchdog-test"), sink);
        using var manager = NotifySocket.AtPath();
        using var notifier = new ServiceManagerNotifier(manager.Address);
        var time = new FakeTimeProvider();
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var log = new LogRecorder();
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(log));
        using var watchdog = new SystemdWatchdog(notifier, Interval, engine.PingAsync, lifetime, time, loggers.CreateLogger<SystemdWatchdog>());

        await watchdog.StartAsync(cancellation);
        Assert.False(manager.HasPending);
        lifetime.NotifyStarted();
        Assert.Equal("WATCHDOG=1", await manager.ReceiveAsync());

        // The engine thread is held inside a step's completion, as a thread stuck in a driver call would be.
        var held = sink.HoldNextCompletion();
        var step = session.RentStep();
        step.RequestId = 1;
        session.Submit(step);
        await held;

        var silent = log.NextAsync<SystemdWatchdog>(560);
        while (!silent.IsCompleted)
        {
            time.Advance(Interval);
            await Task.Delay(10, cancellation);
        }
        Assert.Contains("not answered a heartbeat", await silent);
        Assert.False(manager.HasPending);

        sink.Release();
        Assert.Equal("WATCHDOG=1", await manager.ReceiveAsync());
        Assert.Contains("answers again", await log.NextAsync<SystemdWatchdog>(561));
        await watchdog.StopAsync(cancellation);
        Assert.True(watchdog.ExecuteTask!.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Without_a_watchdog_it_does_nothing()
    {
        using var manager = NotifySocket.AtPath();
        using var notifier = new ServiceManagerNotifier(manager.Address);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        using var watchdog = new SystemdWatchdog(
            notifier, interval: null, _ => Task.CompletedTask, lifetime, TimeProvider.System, NullLogger<SystemdWatchdog>.Instance);

        await watchdog.StartAsync(TestContext.Current.CancellationToken);
        lifetime.NotifyStarted();
        await watchdog.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.True(watchdog.ExecuteTask.IsCompletedSuccessfully);
        Assert.False(manager.HasPending);
    }

    /// <summary>A session's completions, one of which can hold the engine thread until released.</summary>
    private sealed class HoldingSink : IStepCompletionSink
    {
        private readonly ManualResetEventSlim _release = new(initialState: true);
        private TaskCompletionSource? _holding;

        public Task HoldNextCompletion()
        {
            _release.Reset();
            _holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _holding.Task;
        }

        public void Release() => _release.Set();

        public void OnStepCompleted(in StepCompletion completion)
        {
            if (Interlocked.Exchange(ref _holding, null) is { } holding)
            {
                holding.SetResult();
                _release.Wait(TimeSpan.FromSeconds(60));
            }
        }
    }
}
