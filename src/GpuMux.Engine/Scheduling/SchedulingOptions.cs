namespace GpuMux.Engine.Scheduling;

/// <summary>How steps of different models share the device.</summary>
public enum SchedulingPolicy
{
    /// <summary>Models switch between any two steps; the scheduler weighs a swap's cost before choosing a cold model.</summary>
    Step,

    /// <summary>A model in the middle of a request stays resident until that request's last step: swaps happen between requests only.</summary>
    Request,

    /// <summary>A model is made resident at registration and stays; one that does not fit beside the others is refused, as if it needed a GPU of its own.</summary>
    Dedicated,
}

/// <summary>
/// A priority class: its steps run on streams at its own priority. <see cref="MinimumShare"/>
/// is its starvation bound, the share of the device's time it is owed while it has work,
/// however busy the classes above it are.
/// </summary>
public sealed record PriorityClassOptions(string Name, double MinimumShare)
{
    /// <summary>The limit of a class that sets none: 10 s, far above a serving step, and what a kernel that will not end holds every other tenant up for.</summary>
    public static readonly TimeSpan DefaultMaxStepTime = TimeSpan.FromSeconds(10);

    /// <summary>The most a class's limit may be: a day.</summary>
    public static readonly TimeSpan MaxMaxStepTime = TimeSpan.FromDays(1);

    /// <summary>
    /// The longest one of its steps may be on the device, from when it starts there. Nothing
    /// stops a kernel on a GPU but a reset of the device, so a step past it fails with
    /// <see cref="EngineError.StepTimedOut"/> and the device is reset under every other step too:
    /// far above what any honest step takes.
    /// </summary>
    public TimeSpan MaxStepTime { get; init; } = DefaultMaxStepTime;
}

/// <summary>The scheduler's settings. Classes are listed highest priority first.</summary>
public sealed record SchedulingOptions
{
    public SchedulingPolicy Policy { get; init; } = SchedulingPolicy.Step;

    public IReadOnlyList<PriorityClassOptions> Classes { get; init; } =
    [
        new("interactive", 0) { MaxStepTime = TimeSpan.FromSeconds(5) },
        new("standard", 0.05),
        new("batch", 0.02) { MaxStepTime = TimeSpan.FromMinutes(1) },
    ];

    /// <summary>The class of a session that holds no lease.</summary>
    public string DefaultClass { get; init; } = "standard";

    /// <summary>
    /// Steps of one class on the device at once. Two keep the device busy while the engine
    /// notices a completion and issues the next; more would take choices away from the scheduler.
    /// </summary>
    public int StepsOnDevicePerClass { get; init; } = 2;

    /// <summary>The window over which classes' shares of device time are measured for the starvation bound.</summary>
    public TimeSpan ShareWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Under the Step policy, how long a model swapped in keeps its place while steps want it:
    /// until its own steps have had this many times its swap-in's time on the device (or it has
    /// gone unused that long and a swap's time more). Until then another model's step waits
    /// rather than evict it. With 1, a swap brings at least as much compute as it took to copy;
    /// larger is fewer swaps, longer waits.
    /// </summary>
    public double SwapAmortization { get; init; } = 1;

    internal int DefaultClassIndex => IndexOf(DefaultClass);

    /// <summary>The class's position, 0 the highest; -1 when there is no such class.</summary>
    internal int IndexOf(string name)
    {
        for (var i = 0; i < Classes.Count; i++)
        {
            if (string.Equals(Classes[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    internal void Validate()
    {
        if (Classes.Count is 0 or > 8)
        {
            throw new ArgumentException($"between 1 and 8 priority classes are needed, not {Classes.Count}");
        }
        double shares = 0;
        for (var i = 0; i < Classes.Count; i++)
        {
            var priorityClass = Classes[i];
            if (string.IsNullOrWhiteSpace(priorityClass.Name) || IndexOf(priorityClass.Name) != i)
            {
                throw new ArgumentException($"priority class names must be non-empty and distinct ('{priorityClass.Name}')");
            }
            if (priorityClass.MinimumShare is < 0 or >= 1 || double.IsNaN(priorityClass.MinimumShare))
            {
                throw new ArgumentException($"the minimum share of class {priorityClass.Name} must be at least 0 and below 1, not {priorityClass.MinimumShare}");
            }
            if (priorityClass.MaxStepTime <= TimeSpan.Zero || priorityClass.MaxStepTime > PriorityClassOptions.MaxMaxStepTime)
            {
                throw new ArgumentException($"the step time limit of class {priorityClass.Name} must be above 0 and at most {PriorityClassOptions.MaxMaxStepTime}, not {priorityClass.MaxStepTime}");
            }
            shares += priorityClass.MinimumShare;
        }
        if (shares >= 1)
        {
            throw new ArgumentException($"the classes' minimum shares add up to {shares}, which leaves nothing to strict priority");
        }
        if (DefaultClassIndex < 0)
        {
            throw new ArgumentException($"the default class {DefaultClass} is not one of the classes");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(StepsOnDevicePerClass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ShareWindow, TimeSpan.Zero);
        if (SwapAmortization is < 0 or > 1000 || double.IsNaN(SwapAmortization))
        {
            throw new ArgumentException($"the swap amortization must be from 0 to 1000, not {SwapAmortization}");
        }
    }
}
