namespace GpuMux.Daemon.CommandLine;

/// <summary>
/// Settings on the command line, written as configuration keys: <c>--Section:Name=value</c> or
/// <c>--Section:Name value</c>. Any key may be given so, which no parser of declared options
/// takes, so they are taken out of the arguments before the options are parsed.
/// </summary>
internal static class SettingArguments
{
    private const string Prefix = "--";

    /// <returns>The settings, in order, and the arguments left for the options parser.</returns>
    public static (List<KeyValuePair<string, string?>> Settings, List<string> Options) Split(IReadOnlyList<string> args)
    {
        List<KeyValuePair<string, string?>> settings = [];
        List<string> rest = [];
        for (var i = 0; i < args.Count; i++)
        {
            var argument = args[i];
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? argument : argument[..equals];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || !name.Contains(':', StringComparison.Ordinal))
            {
                rest.Add(argument);
            }
            else if (equals >= 0)
            {
                settings.Add(new(name[Prefix.Length..], argument[(equals + 1)..]));
            }
            else if (i + 1 < args.Count)
            {
                settings.Add(new(name[Prefix.Length..], args[++i]));
            }
            else
            {
                // Without a value it is no setting: the options parser refuses it as an unknown option.
                rest.Add(argument);
            }
        }

        return (settings, rest);
    }
}
