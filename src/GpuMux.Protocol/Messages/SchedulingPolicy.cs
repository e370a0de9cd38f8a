namespace GpuMux.Protocol.Messages;

/// <summary>How the daemon lets models share the device (docs/configuration.md, <c>Scheduling:Policy</c>).</summary>
public enum SchedulingPolicy : byte
{
    /// <summary>Models may switch between any two steps.</summary>
    Step = 1,

    /// <summary>A model stays resident until its request's last step.</summary>
    Request = 2,

    /// <summary>Models are resident from registration on.</summary>
    Dedicated = 3,
}
