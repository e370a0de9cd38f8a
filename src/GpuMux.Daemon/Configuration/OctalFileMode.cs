namespace GpuMux.Daemon.Configuration;

/// <summary>Permission bits written as in chmod: <c>0660</c> or <c>660</c>.</summary>
internal static class OctalFileMode
{
    private const int PermissionBits = 0b111_111_111;

    public static bool TryParse(string? text, out UnixFileMode mode)
    {
        mode = UnixFileMode.None;
        if (string.IsNullOrEmpty(text) || text.Length > 4)
        {
            return false;
        }
        var value = 0;
        foreach (var digit in text)
        {
            if (digit is < '0' or > '7')
            {
                return false;
            }
            value = (value * 8) + (digit - '0');
        }
        // setuid, setgid and sticky mean nothing on a socket, so a mode that has them is a typo.
        if (value > PermissionBits)
        {
            return false;
        }
        mode = (UnixFileMode)value;
        return true;
    }

    public static UnixFileMode Parse(string text) =>
        TryParse(text, out var mode) ? mode : throw new FormatException($"'{text}' is not an octal permission mode such as 0660.");
}
