using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Sim;

internal sealed unsafe class SimMemset(SimStream stream, ulong destination, uint value, int elementSize, ulong count)
    : SimOperation(stream)
{
    public override SimEngine Engine => SimEngine.Compute;

    public override long Execute(SimMemory memory, SimDeviceOptions device)
    {
        var bytes = count * (ulong)elementSize;
        var target = memory.Resolve(new DevicePtr(destination), bytes, write: true);
        if (elementSize == 1)
        {
            NativeMemory.Fill((void*)target, (nuint)bytes, (byte)value);
        }
        else
        {
            for (ulong done = 0; done < count;)
            {
                var chunk = (int)Math.Min(count - done, int.MaxValue);
                new Span<uint>((uint*)target + done, chunk).Fill(value);
                done += (ulong)chunk;
            }
        }
        return SimClock.Ticks(device.OperationLatency) + SimClock.Ticks(bytes / device.DeviceMemoryBytesPerSecond);
    }
}
