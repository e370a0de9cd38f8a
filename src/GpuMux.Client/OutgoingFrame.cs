using System.Buffers;

namespace GpuMux.Client;

/// <summary>A frame to send, in a pooled array that goes back once sent, or in its step's own buffer, which the step then lets go.</summary>
internal readonly record struct OutgoingFrame(byte[] Bytes, int Length, StepReply? Step)
{
    public void Sent()
    {
        if (Step is null)
        {
            ArrayPool<byte>.Shared.Return(Bytes);
        }
        else
        {
            Step.Release();
        }
    }
}
