using System.CommandLine;
using System.Globalization;

namespace GpuMux.Cli.Commands;

/// <summary>An option that counts something, at least 1 (<c>--steps 200</c>).</summary>
internal static class CountOption
{
    public static Option<int> Create(string name, string description, int defaultValue) =>
        NumberOption.Create(name, description, defaultValue, NumberStyles.None, value => value >= 1, "a whole number, at least 1", "count");
}
