namespace GpuMux.Bench.Scheduling;

/// <summary>One case of the interactive benchmark: the interactive session's class, and the batch tenant's, if there is one.</summary>
internal sealed record InteractiveCase(string Name, string InteractiveClass, string? BatchClass)
{
    public static IReadOnlyList<InteractiveCase> All { get; } =
    [
        new("idle", "interactive", null),
        new("loaded", "interactive", "batch"),
        new("one class", "standard", "standard"),
    ];

    public bool IsLoaded => BatchClass is not null;
}
