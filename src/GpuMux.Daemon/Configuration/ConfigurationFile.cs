using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// The JSON file to read: the one named by <c>--config</c>, else by <c>GPUMUXD_CONFIG</c>, else
/// <see cref="DefaultPath"/>. The default may be absent; a file someone named must exist.
/// </summary>
internal sealed record ConfigurationFile(string Path, string? NamedBy)
{
    public const string DefaultPath = "/etc/gpumuxd/gpumuxd.json";
    public const string EnvironmentVariable = "GPUMUXD_CONFIG";

    public bool IsRequired => NamedBy is not null;

    public static ConfigurationFile Locate(string? fromCommandLine, string? fromEnvironment, string defaultPath)
    {
        if (!string.IsNullOrEmpty(fromCommandLine))
        {
            return new ConfigurationFile(System.IO.Path.GetFullPath(fromCommandLine), "--config");
        }
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return new ConfigurationFile(System.IO.Path.GetFullPath(fromEnvironment), EnvironmentVariable);
        }
        return new ConfigurationFile(defaultPath, null);
    }

    /// <summary>The settings in the file as configuration keys, or why there are none: it is absent, or cannot be read or parsed.</summary>
    public FileContents Read()
    {
        if (!File.Exists(Path))
        {
            return FileContents.Absent;
        }

        try
        {
            using var stream = File.OpenRead(Path);
            var parsed = new ConfigurationBuilder().AddJsonStream(stream).Build();
            return new FileContents(
                parsed.AsEnumerable().Where(setting => setting.Value is not null).ToDictionary(StringComparer.OrdinalIgnoreCase), Exists: true, Problem: null);
        }
        catch (JsonException e)
        {
            return FileContents.Unusable($"{Path} is not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {WithoutPosition(e.Message)}");
        }
        catch (FormatException e)
        {
            // What the JSON reader accepts but configuration does not: a duplicate key, a top level that is not an object.
            return FileContents.Unusable($"{Path} is not a configuration file: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return FileContents.Unusable($"{Path} cannot be read: {e.Message}");
        }
    }

    /// <summary>The reader's message without the position it ends with, which the caller states once, counted from 1.</summary>
    private static string WithoutPosition(string message)
    {
        var position = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return position < 0 ? message : message[..position];
    }
}

/// <summary>What reading the configuration file found.</summary>
/// <param name="Settings">Its settings as configuration keys; empty when it is absent or unusable.</param>
/// <param name="Problem">Why it cannot be used (it cannot be read, or is not valid JSON); null when it can.</param>
internal sealed record FileContents(IReadOnlyDictionary<string, string?> Settings, bool Exists, string? Problem)
{
    private static readonly Dictionary<string, string?> None = [];

    public static FileContents Absent { get; } = new(None, Exists: false, Problem: null);

    public static FileContents Unusable(string problem) => new(None, Exists: true, problem);
}
