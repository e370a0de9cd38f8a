using System.Globalization;
using GpuMux.Engine.Tenants;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// What each tenant (a uid) may use, and its weight against the others: <see cref="Default"/> for
/// every uid, overridden for some in <see cref="Uids"/>. The one section a reload applies while
/// the daemon runs (<see cref="TenantLimitsReload"/>).
/// </summary>
internal sealed class TenantsOptions
{
    public const string SectionName = "Tenants";

    public TenantLimitOptions Default { get; set; } = new();

    /// <summary>Keyed by uid, in decimal. The limits an entry leaves unset are <see cref="Default"/>'s.</summary>
    public Dictionary<string, TenantLimitOptions> Uids { get; set; } = [];

    /// <summary>The limits as the engine takes them; only for options that passed <see cref="Validate"/>.</summary>
    public TenantLimitsOptions ToEngine()
    {
        var defaults = Default.Over(new TenantLimits());
        return new()
        {
            Default = defaults,
            ByUid = Uids.ToDictionary(uid => uint.Parse(uid.Key, CultureInfo.InvariantCulture), uid => uid.Value.Over(defaults)),
        };
    }

    /// <param name="classes">The priority classes, which a highest class must name.</param>
    public void Validate(SettingErrors errors, IReadOnlyList<string> classes)
    {
        Default.Validate(errors, nameof(Default), classes);
        foreach (var (uid, limits) in Uids)
        {
            var key = $"{nameof(Uids)}:{uid}";
            // One spelling per uid, so that "1000" and "01000" cannot both set its limits.
            if (!uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                || parsed.ToString(CultureInfo.InvariantCulture) != uid)
            {
                errors.Add(key, $"does not name a uid; the keys of {SectionName}:{nameof(Uids)} are uids in decimal, such as 1000.");
            }
            limits.Validate(errors, key, classes);
        }
    }
}

/// <summary>
/// One tenant's limits; 0 is no limit. A setting left out (null) is inherited: by a uid's entry
/// from the default tenant, and by the default tenant from the built-in defaults (weight 1, no
/// limits, any class, built-in kernels only).
/// </summary>
internal sealed class TenantLimitOptions
{
    public double? Weight { get; set; }

    public ulong? MaxDeviceBytes { get; set; }

    public int? MaxLeases { get; set; }

    public double? GpuSecondsPerDay { get; set; }

    /// <summary>The highest class the tenant's leases may ask for; empty allows any.</summary>
    public string? HighestClass { get; set; }

    /// <summary>
    /// <c>builtin</c>: module 0 and registered models only; <c>trusted</c>: any module too, whose
    /// kernels can read and write every session's device memory (all share one context).
    /// </summary>
    public string? Kernels { get; set; }

    public TenantLimits Over(TenantLimits inherited) => new()
    {
        Weight = Weight ?? inherited.Weight,
        MaxDeviceBytes = MaxDeviceBytes ?? inherited.MaxDeviceBytes,
        MaxLeases = MaxLeases ?? inherited.MaxLeases,
        GpuSecondsPerDay = GpuSecondsPerDay ?? inherited.GpuSecondsPerDay,
        HighestClass = HighestClass is null ? inherited.HighestClass : HighestClass.Length == 0 ? null : HighestClass,
        Kernels = Kernels is null ? inherited.Kernels : Enum.Parse<KernelPolicy>(Kernels, ignoreCase: true),
    };

    public void Validate(SettingErrors errors, string key, IReadOnlyList<string> classes)
    {
        if (Weight is { } weight && !(weight > 0 && weight <= 1000))
        {
            errors.Add($"{key}:{nameof(Weight)}", $"is {weight}; it must be above 0 and at most 1000.");
        }
        if (MaxLeases is { } leases)
        {
            errors.RequireRange($"{key}:{nameof(MaxLeases)}", leases, 0, 65_536);
        }
        if (GpuSecondsPerDay is { } seconds)
        {
            errors.RequireRange($"{key}:{nameof(GpuSecondsPerDay)}", seconds, 0.0, 86_400.0);
        }
        if (HighestClass is { Length: > 0 } highest && !classes.Contains(highest, StringComparer.Ordinal))
        {
            errors.Add($"{key}:{nameof(HighestClass)}", $"is '{highest}'; it must be one of the classes ({string.Join(", ", classes)}), or empty for any.");
        }
        if (Kernels is { } kernels && !Enum.GetNames<KernelPolicy>().Contains(kernels, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:{nameof(Kernels)}", $"is '{kernels}'; it must be builtin (module 0 and registered models only) or trusted (any module).");
        }
    }
}
