using System.Diagnostics;
using GpuMux.Gpu.Sim;

namespace GpuMux.Gpu.Tests.Sim;

/// <summary>
/// The Sim's events read a modelled device timeline, not the moments its engine threads got round
/// to the work: elapsed times between them are fixed by the model alone, whatever the host did
/// meanwhile, so these tests compare them exactly. Where the host clock comes in, it only brackets.
/// </summary>
public sealed class SimTimelineTests
{
    private const double Exact = 1e-5;

    private static readonly TimeSpan SpinTime = TimeSpan.FromMicroseconds(300);

    // No fixed cost per operation, so that a kernel's modelled time is its own.
    private readonly GpuBackend _backend = GpuBackends.CreateSim(new GpuBackendOptions
    {
        ModuleCacheDirectory = null,
        Sim = new SimDeviceOptions { OperationLatency = TimeSpan.Zero },
    });

    [Fact]
    public void Events_around_back_to_back_kernels_measure_each_kernel_s_modelled_time()
    {
        using var gpu = new TestGpu(_backend);
        using var gate = new HostFunctionProbe(hold: true);
        var marks = Enumerable.Range(0, 4).Select(_ => gpu.Context.CreateEvent()).ToArray();

        // Everything is queued behind the held host function, so when it returns the engine's
        // thread, asleep until then, wakes to kernels that were due on the device at once.
        gate.LaunchOn(gpu.Stream);
        gpu.Stream.Record(marks[0]);
        for (var i = 1; i < marks.Length; i++)
        {
            gpu.Kernels.Spin(gpu.Stream, SpinTime);
            gpu.Stream.Record(marks[i]);
        }
        gate.Release();
        gpu.Stream.Synchronize();

        for (var i = 1; i < marks.Length; i++)
        {
            Assert.Equal(SpinTime.TotalMilliseconds, GpuEvent.ElapsedMilliseconds(marks[i - 1], marks[i]), Exact);
        }
        foreach (var marker in marks)
        {
            marker.Dispose();
        }
    }

    [Fact]
    public void Events_around_a_kernel_measure_its_modelled_time_however_long_the_host_took_to_run_it()
    {
        // 64 MiB of floats: the device's bandwidth fills them in microseconds, the host's memory in milliseconds.
        const ulong Count = 16UL << 20;
        using var gpu = new TestGpu(_backend);
        using var gate = new HostFunctionProbe(hold: true);
        using var buffer = gpu.Context.Allocate(Count * sizeof(float));
        using var before = gpu.Context.CreateEvent();
        using var after = gpu.Context.CreateEvent();

        gate.LaunchOn(gpu.Stream);
        gpu.Stream.Record(before);
        gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 1f, Count);
        gpu.Stream.Record(after);
        gate.Release();
        gpu.Stream.Synchronize();

        var modelled = Count * sizeof(float) / new SimDeviceOptions().DeviceMemoryBytesPerSecond * 1e3;
        Assert.Equal(modelled, GpuEvent.ElapsedMilliseconds(before, after), Exact);
    }

    [Fact]
    public void A_record_on_an_idle_stream_reads_when_the_host_queued_it()
    {
        using var gpu = new TestGpu(_backend);
        using var first = gpu.Context.CreateEvent();
        using var second = gpu.Context.CreateEvent();

        var firstQueuing = Stopwatch.GetTimestamp();
        gpu.Stream.Record(first);
        var firstQueued = Stopwatch.GetTimestamp();
        // The stream was busy, and is idle again once the host has seen its kernel end.
        gpu.Kernels.Spin(gpu.Stream, SpinTime);
        gpu.Stream.Synchronize();
        var secondQueuing = Stopwatch.GetTimestamp();
        gpu.Stream.Record(second);
        var secondQueued = Stopwatch.GetTimestamp();
        second.Synchronize();

        Assert.InRange(
            GpuEvent.ElapsedMilliseconds(first, second),
            Stopwatch.GetElapsedTime(firstQueued, secondQueuing).TotalMilliseconds - Exact,
            Stopwatch.GetElapsedTime(firstQueuing, secondQueued).TotalMilliseconds + Exact);
    }

    [Fact]
    public void A_record_completes_for_the_host_no_earlier_than_its_modelled_time()
    {
        using var gpu = new TestGpu(_backend);
        using var start = gpu.Context.CreateEvent();
        using var end = gpu.Context.CreateEvent();

        var queuing = Stopwatch.GetTimestamp();
        gpu.Stream.Record(start);
        gpu.Kernels.Spin(gpu.Stream, TimeSpan.FromMilliseconds(20));
        gpu.Stream.Record(end);
        end.Synchronize();
        var seen = Stopwatch.GetElapsedTime(queuing).TotalMilliseconds;

        var elapsed = GpuEvent.ElapsedMilliseconds(start, end);
        Assert.True(elapsed >= 20 - Exact, $"{elapsed} ms for a kernel of 20 ms");
        Assert.True(seen >= elapsed, $"the host saw the end {seen} ms after queueing the start, {elapsed} ms apart on the device");
    }

    [Fact]
    public void A_stream_waiting_for_another_s_event_goes_on_from_when_that_event_was_reached()
    {
        using var gpu = new TestGpu(_backend);
        using var gate = new HostFunctionProbe(hold: true);
        using var other = gpu.Context.CreateStream();
        using var reached = gpu.Context.CreateEvent();
        using var waited = gpu.Context.CreateEvent();
        using var done = gpu.Context.CreateEvent();

        gate.LaunchOn(gpu.Stream);
        gpu.Kernels.Spin(gpu.Stream, SpinTime);
        gpu.Stream.Record(reached);
        other.Wait(reached);
        other.Record(waited);
        gpu.Kernels.Spin(other, SpinTime);
        other.Record(done);
        gate.Release();
        other.Synchronize();

        Assert.Equal(0, GpuEvent.ElapsedMilliseconds(reached, waited), Exact);
        Assert.Equal(SpinTime.TotalMilliseconds, GpuEvent.ElapsedMilliseconds(reached, done), Exact);
    }
}
