using System.CommandLine;

namespace GpuMux.Cli.Commands;

/// <summary>
/// An option whose value is one of an enum's members, spelled in lower case (<c>--backend cuda</c>).
/// System.CommandLine's own enum parsing lists the members capitalised and also accepts their numbers.
/// </summary>
internal static class ChoiceOption
{
    public static Option<TEnum> Create<TEnum>(string name, string description, TEnum defaultValue, params string[] aliases)
        where TEnum : struct, Enum
    {
        var choices = Enum.GetValues<TEnum>().ToDictionary(Spelling, StringComparer.OrdinalIgnoreCase);
        var spellings = choices.Keys.ToArray();
        var option = new Option<TEnum>(name, aliases)
        {
            Description = description,
            HelpName = string.Join('|', spellings),
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var token = result.Tokens[0].Value;
                if (choices.TryGetValue(token, out var value))
                {
                    return value;
                }
                result.AddError($"'{token}' is not a valid value for {name}: use one of {string.Join(", ", spellings)}.");
                return defaultValue;
            },
        };
        option.CompletionSources.Add(spellings);
        return option;
    }

    private static string Spelling<TEnum>(TEnum value)
        where TEnum : struct, Enum => value.ToString().ToLowerInvariant();
}
