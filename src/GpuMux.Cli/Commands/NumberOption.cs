using System.CommandLine;
using System.Globalization;
using System.Numerics;

namespace GpuMux.Cli.Commands;

/// <summary>
/// An option that takes a number within a range (<c>--top-p 0.9</c>): anything else is a usage error that names
/// the option, the value and the range, parsed once, so no check reads a value that did not parse.
/// </summary>
internal static class NumberOption
{
    /// <param name="styles">What the number may be written with: <see cref="NumberStyles.None"/> for digits only.</param>
    /// <param name="range">The accepted values in words, as the error states them: "a whole number, at least 1".</param>
    public static Option<T> Create<T>(string name, string description, T defaultValue, NumberStyles styles, Func<T, bool> accepts, string range, string helpName)
        where T : INumber<T> => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var token = result.Tokens[0].Value;
            if (T.TryParse(token, styles, CultureInfo.InvariantCulture, out var value) && accepts(value))
            {
                return value;
            }

            result.AddError($"'{token}' is not a valid value for {name}: use {range}.");
            return defaultValue;
        },
    };
}
