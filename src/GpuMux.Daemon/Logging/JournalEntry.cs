using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Logging;

/// <summary>
/// One log entry in the journal's native protocol: fields as <c>NAME=value</c> lines, or, for a
/// value that holds a newline, the name, a newline, the value's length as a little-endian 64-bit
/// number, the value and a newline. Names are upper-case letters, digits and '_', not leading '_'
/// (those are the journal's own), at most 64 characters.
/// </summary>
internal static class JournalEntry
{
    public const string Identifier = "gpumuxd";
    private const int MaxNameLength = 64;

    /// <summary>
    /// The datagram for an entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, GPUMUX_CATEGORY and
    /// GPUMUX_EVENT_ID, and each value of the message's template as GPUMUX_ and its name in
    /// upper snake case (<c>{Pid}</c> as <c>GPUMUX_PID</c>), which <c>journalctl GPUMUX_PID=…</c> matches.
    /// </summary>
    public static byte[] Encode(
        LogLevel level, string category, EventId eventId, string message, IEnumerable<KeyValuePair<string, object?>> values)
    {
        var entry = new MemoryStream();
        Append(entry, "MESSAGE", message);
        Append(entry, "PRIORITY", Priority(level).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Append(entry, "SYSLOG_IDENTIFIER", Identifier);
        Append(entry, "GPUMUX_CATEGORY", category);
        if (eventId.Id != 0)
        {
            Append(entry, "GPUMUX_EVENT_ID", eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        foreach (var (key, value) in values)
        {
            if (key != "{OriginalFormat}" && FieldName(key) is { } name)
            {
                Append(entry, name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
            }
        }
        return entry.ToArray();
    }

    /// <summary>syslog's priorities, as the journal files them: 3 error, 4 warning, 6 info, 7 debug.</summary>
    public static int Priority(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };

    /// <summary><c>GPUMUX_</c> and <paramref name="key"/> in upper snake case; null for a key that makes no valid name.</summary>
    public static string? FieldName(string key)
    {
        var name = new StringBuilder("GPUMUX_");
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (char.IsAsciiLetterUpper(c) && i > 0 && (char.IsAsciiLetterLower(key[i - 1]) || char.IsAsciiDigit(key[i - 1])))
            {
                name.Append('_');
            }
            if (char.IsAsciiLetterOrDigit(c))
            {
                name.Append(char.ToUpperInvariant(c));
            }
            else if (c == '_')
            {
                name.Append('_');
            }
            else
            {
                return null;
            }
        }
        return name.Length > "GPUMUX_".Length && name.Length <= MaxNameLength ? name.ToString() : null;
    }

    private static void Append(MemoryStream entry, string name, string value)
    {
        entry.Write(Encoding.ASCII.GetBytes(name));
        var bytes = Encoding.UTF8.GetBytes(value);
        if (value.Contains('\n'))
        {
            Span<byte> length = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)bytes.Length);
            entry.WriteByte((byte)'\n');
            entry.Write(length);
        }
        else
        {
            entry.WriteByte((byte)'=');
        }
        entry.Write(bytes);
        entry.WriteByte((byte)'\n');
    }
}
