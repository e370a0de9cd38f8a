namespace GpuMux.Bench.Copies;

/// <summary>The timed copies of one case, and whether the data arrived intact.</summary>
internal sealed record CopyMeasurement(
    CopyCase Case,
    ulong Bytes,
    IReadOnlyList<double> Milliseconds,
    IReadOnlyList<ulong> ExpectedChecksums,
    IReadOnlyList<ulong> ActualChecksums)
{
    public bool Verified => WrongChunks == 0;

    /// <summary>How many of the checksummed chunks of the destination differ from the source.</summary>
    public int WrongChunks => ExpectedChecksums.Zip(ActualChecksums).Count(pair => pair.First != pair.Second);

    public IEnumerable<double> GigabytesPerSecond => Milliseconds.Select(Rate);

    public SampleStatistics Rates => SampleStatistics.Of(GigabytesPerSecond);

    public SampleStatistics Times => SampleStatistics.Of(Milliseconds);

    /// <summary>Decimal gigabytes (1e9 bytes) per second, as bus and GPU vendors quote them.</summary>
    public double Rate(double milliseconds) => Bytes / (milliseconds / 1e3) / 1e9;
}
