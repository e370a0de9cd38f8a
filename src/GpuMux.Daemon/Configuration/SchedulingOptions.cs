using System.Text;
using GpuMux.Engine.Scheduling;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// How steps share the device: the policy for switching models, and the priority classes, highest
/// first, each with its CUDA stream priority, its guaranteed share of device time and the longest
/// one of its steps may be on the device.
/// </summary>
internal sealed class SchedulingOptions : IDaemonSettings
{
    private static readonly GpuMux.Engine.Scheduling.SchedulingOptions EngineDefaults = new();

    public static string SectionName => "Scheduling";

    /// <summary>Written <c>step</c>, <c>request</c> or <c>dedicated</c>, in any case.</summary>
    public SchedulingPolicy Policy { get; set; } = EngineDefaults.Policy;

    /// <summary>
    /// Empty means the engine's classes (interactive, standard, batch). Not given a default list
    /// here because the binder appends configured items to a list that already has some.
    /// </summary>
    public List<SchedulingClassOptions> Classes { get; set; } = [];

    public string DefaultClass { get; set; } = EngineDefaults.DefaultClass;

    public int StepsOnDevicePerClass { get; set; } = EngineDefaults.StepsOnDevicePerClass;

    public int ShareWindowMs { get; set; } = (int)EngineDefaults.ShareWindow.TotalMilliseconds;

    public double SwapAmortization { get; set; } = EngineDefaults.SwapAmortization;

    public IReadOnlyList<PriorityClassOptions> EffectiveClasses =>
        Classes.Count == 0 ? EngineDefaults.Classes : [.. Classes.Select(c => new PriorityClassOptions(c.Name, c.MinimumShare) { MaxStepTime = TimeSpan.FromMilliseconds(c.MaxStepMs) })];

    public IReadOnlyList<string> ClassNames => [.. EffectiveClasses.Select(c => c.Name)];

    public GpuMux.Engine.Scheduling.SchedulingOptions ToEngine() => new()
    {
        Policy = Policy,
        Classes = EffectiveClasses,
        DefaultClass = DefaultClass,
        StepsOnDevicePerClass = StepsOnDevicePerClass,
        ShareWindow = TimeSpan.FromMilliseconds(ShareWindowMs),
        SwapAmortization = SwapAmortization,
    };

    public void Validate(SettingErrors errors)
    {
        // The binder turns any integer into an enum value, named or not.
        if (!Enum.IsDefined(Policy))
        {
            errors.Add(nameof(Policy), $"is {(int)Policy}; it must be step, request or dedicated.");
        }
        ValidateClasses(errors);
        var names = ClassNames;
        if (!names.Contains(DefaultClass, StringComparer.Ordinal))
        {
            errors.Add(nameof(DefaultClass), $"is '{DefaultClass}'; it must be one of the classes: {string.Join(", ", names)}.");
        }
        errors.RequireRange(nameof(StepsOnDevicePerClass), StepsOnDevicePerClass, 1, 64);
        errors.RequireRange(nameof(ShareWindowMs), ShareWindowMs, 10, 60_000);
        if (!(SwapAmortization is >= 0 and <= 1000))
        {
            errors.Add(nameof(SwapAmortization), $"is {SwapAmortization}; it must be from 0 to 1000.");
        }
    }

    private void ValidateClasses(SettingErrors errors)
    {
        if (Classes.Count > Protocol.Messages.SchedulingStatus.MaxClasses)
        {
            errors.Add(nameof(Classes), $"lists {Classes.Count} classes; it may list at most {Protocol.Messages.SchedulingStatus.MaxClasses}.");
        }
        var shares = 0.0;
        for (var i = 0; i < Classes.Count; i++)
        {
            var (name, share) = (Classes[i].Name, Classes[i].MinimumShare);
            var key = $"{nameof(Classes)}:{i}";
            if (name.Length == 0 || name.Any(char.IsWhiteSpace) || Encoding.UTF8.GetByteCount(name) > Protocol.Messages.LeaseInfo.MaxClassNameBytes)
            {
                errors.Add($"{key}:Name", $"is '{name}'; a class name is 1 to {Protocol.Messages.LeaseInfo.MaxClassNameBytes} bytes without spaces.");
            }
            else if (Classes.FindIndex(c => c.Name == name) < i)
            {
                errors.Add($"{key}:Name", $"is '{name}', the name of an earlier class; class names must differ.");
            }
            if (!(share >= 0 && share < 1))
            {
                errors.Add($"{key}:MinimumShare", $"is {share}; it must be at least 0 and below 1.");
            }
            errors.RequireRange($"{key}:MaxStepMs", Classes[i].MaxStepMs, SchedulingClassOptions.MinMaxStepMs, (int)PriorityClassOptions.MaxMaxStepTime.TotalMilliseconds);
            shares += share;
        }
        if (shares >= 1)
        {
            errors.Add(nameof(Classes), $"have minimum shares that add up to {shares}; they must add up to less than 1, leaving the rest to priority.");
        }
    }
}

/// <summary>One priority class: its name, the share of device time it is owed while it has work, and the longest one of its steps may be on the device.</summary>
internal sealed class SchedulingClassOptions
{
    /// <summary>Below this a step could be failed for the time it takes the daemon to notice it has ended.</summary>
    public const int MinMaxStepMs = 10;

    public string Name { get; set; } = "";

    public double MinimumShare { get; set; }

    public int MaxStepMs { get; set; } = (int)PriorityClassOptions.DefaultMaxStepTime.TotalMilliseconds;
}
