using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Tests;

/// <summary>
/// A host function for tests: counts its calls, says when it has been entered, runs a body
/// (keeping what it throws, since nothing may escape a host function), and can be held until
/// released, so that a test sees what the stream does while it runs.
/// </summary>
internal sealed unsafe class HostFunctionProbe : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly ManualResetEventSlim _entered = new(initialState: false);
    private readonly ManualResetEventSlim _released;
    private readonly Action? _body;
    private GCHandle _self;
    private int _calls;

    public HostFunctionProbe(bool hold = false, Action? body = null)
    {
        _released = new ManualResetEventSlim(initialState: !hold);
        _body = body;
        _self = GCHandle.Alloc(this);
    }

    public int Calls => Volatile.Read(ref _calls);

    public Exception? Thrown { get; private set; }

    public void LaunchOn(GpuStream stream) => stream.LaunchHostFunction(&Run, GCHandle.ToIntPtr(_self));

    public bool WaitEntered() => _entered.Wait(Patience);

    public void Release() => _released.Set();

    public void Dispose()
    {
        _self.Free();
        _entered.Dispose();
        _released.Dispose();
    }

    [UnmanagedCallersOnly]
    private static void Run(nint self)
    {
        var probe = (HostFunctionProbe)GCHandle.FromIntPtr(self).Target!;
        try
        {
            probe._body?.Invoke();
        }
        catch (Exception e)
        {
            probe.Thrown = e;
        }
        Interlocked.Increment(ref probe._calls);
        probe._entered.Set();
        probe._released.Wait(Patience);
    }
}
