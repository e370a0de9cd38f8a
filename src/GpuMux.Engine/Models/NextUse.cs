namespace GpuMux.Engine.Models;

/// <summary>
/// When a model will next be used, guessed from its recent history, which decides the victim
/// when weights must leave the device: the model whose next use is furthest away (Belady's rule
/// with an estimate in place of the future). A model remembers when it was last used and an
/// exponentially weighted average of the gaps between its uses (each new gap weighs a quarter,
/// so the estimate follows a change of pace within a few uses). Its next use is expected one
/// average gap after its last; once that moment has passed without a use, the model is taken to
/// stay idle as long again as it has been (a model that has gone quiet drifts away rather than
/// looking ever more overdue). A model used only once has no gap to go by and ranks furthest of
/// all; among those, the least recently used goes first.
/// </summary>
internal struct NextUse
{
    private const double NewGapWeight = 0.25;

    private double _averageGapNs;

    public long Uses { get; private set; }

    /// <summary>The host's monotonic clock at the last use, in nanoseconds; 0 before any.</summary>
    public long LastUseNs { get; private set; }

    public void Note(long nowNs)
    {
        if (Uses > 0)
        {
            var gap = Math.Max(0, nowNs - LastUseNs);
            _averageGapNs = Uses == 1 ? gap : (NewGapWeight * gap) + ((1 - NewGapWeight) * _averageGapNs);
        }
        LastUseNs = nowNs;
        Uses++;
    }

    /// <summary>How far away the next use is expected, in nanoseconds; larger is a better victim.</summary>
    public readonly double Distance(long nowNs)
    {
        if (Uses < 2)
        {
            // Furthest of all, and the longer ago the last use the further.
            return double.PositiveInfinity;
        }
        var idle = (double)Math.Max(0, nowNs - LastUseNs);
        return idle < _averageGapNs ? _averageGapNs - idle : idle;
    }

    /// <summary>Orders victims: the furthest next use first; ties (models used once) by the oldest last use.</summary>
    public static int CompareVictims(in NextUse a, in NextUse b, long nowNs)
    {
        var byDistance = b.Distance(nowNs).CompareTo(a.Distance(nowNs));
        return byDistance != 0 ? byDistance : a.LastUseNs.CompareTo(b.LastUseNs);
    }
}
