using System.Runtime.InteropServices;
using GpuMux.Engine.Device;
using GpuMux.Engine.Sessions;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests.Execution;

/// <summary>A wake-up waits for its own stream's work and nothing else.</summary>
public sealed class StreamWakeTests
{
    [Fact]
    public unsafe void A_short_steps_wake_up_is_not_held_behind_a_long_step_queued_before_it_on_another_stream()
    {
        // The engine thread also looks every 20 ms while steps are on the device, which would hide
        // a wake-up held back from an engine-level test: so the signal is watched here, alone.
        using var completions = new CompletionSignal();
        using var device = DeviceContext.Create(TestEngine.Backend(), 0, new EngineOptions(), completions);
        using var builtins = BuiltinModule.Load(device.Context);
        using var longStream = device.CreateWatchedStream(0);
        using var shortStream = device.CreateWatchedStream(0);
        using var longEnd = device.Context.CreateEvent(enableTiming: false);
        using var shortEnd = device.Context.CreateEvent(enableTiming: false);
        using var source = device.Context.Allocate(64);
        var destination = NativeMemory.Alloc(64);
        try
        {
            longStream.Stream.Launch(builtins.Module.GetFunction(KernelNames.Spin), new LaunchConfig(1, 32, 0), new KernelArguments().Add(2_000_000UL));
            longStream.Stream.Record(longEnd);
            longStream.WakeAfterQueuedWork();
            // On the copy engine, which the spinning kernel does not hold.
            shortStream.Stream.CopyToHost((nint)destination, source.Pointer, 64);
            shortStream.Stream.Record(shortEnd);
            shortStream.WakeAfterQueuedWork();

            Assert.True(completions.Wait(TimeSpan.FromSeconds(30)));
            Assert.True(shortEnd.IsComplete());
            Assert.False(longEnd.IsComplete());
        }
        finally
        {
            device.Context.Synchronize();
            NativeMemory.Free(destination);
        }
    }
}
