using System.CommandLine;
using System.Globalization;

namespace GpuMux.Cli.Commands;

/// <summary>
/// An option that counts something, at least 1 (<c>--steps 200</c>): anything else is a usage error
/// that names the option and the value, parsed once, so no check reads a value that did not parse.
/// </summary>
internal static class CountOption
{
    public static Option<int> Create(string name, string description, int defaultValue) => new(name)
    {
        Description = description,
        HelpName = "count",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var token = result.Tokens[0].Value;
            if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1)
            {
                return value;
            }

            result.AddError($"'{token}' is not a valid value for {name}: use a whole number, at least 1.");
            return defaultValue;
        },
    };
}
