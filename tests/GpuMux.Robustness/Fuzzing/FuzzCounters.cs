using GpuMux.Robustness.Counting;

namespace GpuMux.Robustness.Fuzzing;

/// <summary>What the fuzzing connections count.</summary>
internal sealed class FuzzCounters
{
    private readonly Dictionary<FuzzFamily, Counter> _framesByFamily;

    public FuzzCounters(Counts counts, Notes notes, IReadOnlyList<FuzzFamily> families)
    {
        Notes = notes;
        Frames = counts.Tally("frames sent");
        _framesByFamily = families.ToDictionary(family => family, family => counts.Tally($"frames sent: {family}"));
        Connections = counts.Tally("fuzzing connections");
        ClosedByDaemon = counts.Tally("fuzzing connections the daemon closed");
        ErrorReplies = counts.Tally("error replies");
        Internal = counts.Failure("Internal errors (a daemon bug, by the protocol's definition)");
        SpuriousShuttingDown = counts.Tally("ShuttingDown while the daemon was not stopping");
        Hangs = counts.Failure("fuzzer requests unanswered (hangs)");
        MalformedReplies = counts.Failure("frames from the daemon that do not parse");
    }

    public Notes Notes { get; }

    public Counter Frames { get; }

    public Counter Connections { get; }

    public Counter ClosedByDaemon { get; }

    public Counter ErrorReplies { get; }

    public Counter Internal { get; }

    /// <summary>A fuzzer's steps told ShuttingDown when its session was closed for its own violation: the wrong reason.</summary>
    public Counter SpuriousShuttingDown { get; }

    public Counter Hangs { get; }

    public Counter MalformedReplies { get; }

    /// <summary>Counts a frame; the honest frames that set a session up belong to no family.</summary>
    public void FrameSent(FuzzFamily? family)
    {
        Frames.Add();
        if (family is { } mutated)
        {
            _framesByFamily[mutated].Add();
        }
    }
}
