namespace GpuMux.Protocol;

/// <summary>The bits of <c>Hello</c>'s and <c>Welcome</c>'s capabilities (docs/protocol.md §3).</summary>
[Flags]
public enum Capabilities : ulong
{
    None = 0,

    /// <summary>
    /// The session only reads the operator reports (status, models, tenants); it does
    /// not count toward the daemon's session limit, so a full daemon can still be looked at (1.5).
    /// </summary>
    Inspect = 1,
}
