using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// The keys of gpumuxd's sections and the kind of value each takes, read off the options classes:
/// a key in one of its sections that is not among them is a warning that names the nearest one
/// (it would be ignored), and a value that does not convert to its key's kind is an error worded
/// as the range checks are.
/// </summary>
internal sealed class SettingKeys
{
    private readonly Dictionary<string, SettingKeys> _children = new(StringComparer.OrdinalIgnoreCase);
    private SettingKeys? _anyChild;
    private Type? _valueType;

    /// <summary>Whether keys other than the known children are left alone: sections that are not only gpumuxd's.</summary>
    private bool _open;

    public static SettingKeys Daemon { get; } = CreateDaemon();

    public void Check(IConfiguration configuration, List<string> errors, List<string> warnings)
    {
        foreach (var (section, keys) in _children)
        {
            keys.Check(configuration.GetSection(section), errors, warnings);
        }
    }

    private static SettingKeys CreateDaemon()
    {
        var scheduling = Of(typeof(SchedulingOptions));
        scheduling._children[nameof(SchedulingOptions.Classes)] = new SettingKeys { _anyChild = Of(typeof(SchedulingClassOptions)) };
        var tenants = Of(typeof(TenantsOptions));
        tenants._children[nameof(TenantsOptions.Default)] = Of(typeof(TenantLimitOptions));
        tenants._children[nameof(TenantsOptions.Uids)] = new SettingKeys { _anyChild = Of(typeof(TenantLimitOptions)) };

        var daemon = new SettingKeys();
        daemon._children[SocketOptions.SectionName] = Of(typeof(SocketOptions));
        daemon._children[DeviceOptions.SectionName] = Of(typeof(DeviceOptions));
        daemon._children[SimOptions.SectionName] = Of(typeof(SimOptions));
        daemon._children[LimitsOptions.SectionName] = Of(typeof(LimitsOptions));
        daemon._children[MemoryOptions.SectionName] = Of(typeof(MemoryOptions));
        daemon._children[SchedulingOptions.SectionName] = scheduling;
        daemon._children[AdminOptions.SectionName] = Of(typeof(AdminOptions));
        daemon._children[MetricsOptions.SectionName] = Of(typeof(MetricsOptions));
        daemon._children[TenantsOptions.SectionName] = tenants;

        // Log levels are the host's, but a level it cannot parse would throw from inside a reload.
        var logLevels = new SettingKeys { _anyChild = new SettingKeys { _valueType = typeof(Microsoft.Extensions.Logging.LogLevel) } };
        daemon._children["Logging"] = new SettingKeys { _open = true, _children = { ["LogLevel"] = logLevels } };
        return daemon;
    }

    /// <summary>The settings of an options class: its properties the binder sets. Those of other kinds than a single value are filled in by the caller.</summary>
    private static SettingKeys Of([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type options)
    {
        var keys = new SettingKeys();
        foreach (var property in options.GetProperties().Where(p => p.SetMethod is { IsPublic: true }))
        {
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            keys._children[property.Name] = new SettingKeys { _valueType = type };
        }
        return keys;
    }

    private void Check(IConfigurationSection section, List<string> errors, List<string> warnings)
    {
        if (_valueType is { } type)
        {
            if (section.Value is { } value && Expected(type, value) is { } expected)
            {
                errors.Add($"{section.Path} is '{value}'; it must be {expected}.");
            }
            return;
        }

        foreach (var child in section.GetChildren())
        {
            if ((_children.GetValueOrDefault(child.Key) ?? _anyChild) is { } keys)
            {
                keys.Check(child, errors, warnings);
            }
            else if (!_open)
            {
                warnings.Add($"{child.Path} is not a setting gpumuxd knows, so it has no effect; the nearest one is {section.Path}:{Nearest(child.Key)}.");
            }
        }
    }

    /// <summary>What a value of <paramref name="type"/> must be, when <paramref name="value"/> is not one; null when it is.</summary>
    private static string? Expected(Type type, string value)
    {
        if (type.IsEnum)
        {
            return Enum.TryParse(type, value, ignoreCase: true, out _) ? null : $"one of {string.Join(", ", Enum.GetNames(type).Select(name => name.ToLowerInvariant()))}";
        }

        return Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => bool.TryParse(value, out _) ? null : "true or false",
            TypeCode.Int32 => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : $"a whole number from {int.MinValue} to {int.MaxValue}",
            TypeCode.Int64 => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : $"a whole number from {long.MinValue} to {long.MaxValue}",
            TypeCode.UInt64 => ulong.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : $"a whole number from 0 to {ulong.MaxValue}",
            TypeCode.Double => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? null : "a number, such as 0.5",
            _ => null,
        };
    }

    private string Nearest(string key) =>
        _children.Keys.MinBy(known => EditDistance(key.ToUpperInvariant(), known.ToUpperInvariant()))!;

    /// <summary>Levenshtein's: the fewest characters inserted, deleted or replaced to turn one into the other.</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
