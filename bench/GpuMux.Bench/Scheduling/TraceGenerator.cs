namespace GpuMux.Bench.Scheduling;

/// <summary>
/// One request of a trace: its model (by popularity rank), its arrival in seconds from the
/// trace's start, its number of decode steps, and its place among its model's requests.
/// </summary>
internal readonly record struct TraceRequest(int Id, int Model, double ArrivalSeconds, int Steps, int IndexInModel);

/// <summary>
/// The trace's requests at one rate. Every rate draws the same sequence from the seed, so the
/// trace at twice the rate is the same requests arriving twice as fast, and twice as many of
/// them fall in the window: the rates differ in load, not in luck.
/// </summary>
internal static class TraceGenerator
{
    public static IReadOnlyList<TraceRequest> Generate(TraceParameters parameters, ZipfPopularity popularity, double rate)
    {
        var perModel = new int[parameters.Models];
        var requests = new List<TraceRequest>();
        foreach (var (arrival, model, random) in Arrivals(parameters.Seed, popularity, rate, parameters.DurationSeconds))
        {
            var steps = random.Next(parameters.MinSteps, parameters.MaxSteps + 1);
            requests.Add(new TraceRequest(requests.Count, model, arrival, steps, perModel[model]++));
        }
        return requests;
    }

    /// <summary>
    /// Poisson arrivals at <paramref name="rate"/> within <paramref name="durationSeconds"/>, each
    /// with its model drawn by <paramref name="popularity"/>; the caller draws the rest of each
    /// request from the random source handed out with it, before asking for the next arrival.
    /// </summary>
    public static IEnumerable<(double ArrivalSeconds, int Model, Random Random)> Arrivals(int seed, ZipfPopularity popularity, double rate, double durationSeconds)
    {
        var random = new Random(seed);
        var arrival = 0.0;
        while (true)
        {
            // Exponential gaps make a Poisson process; 1 - u keeps the logarithm finite.
            arrival += -Math.Log(1 - random.NextDouble()) / rate;
            var model = popularity.Pick(random.NextDouble());
            if (arrival >= durationSeconds)
            {
                yield break;
            }
            yield return (arrival, model, random);
        }
    }
}
