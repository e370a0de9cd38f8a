using System.Text;
using GpuMux.Protocol;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// The socket clients connect to. When systemd passes a listening socket (gpumuxd.socket), that
/// socket is used as it is and these settings are not applied.
/// </summary>
internal sealed class SocketOptions : IDaemonSettings
{
    // sun_path holds 108 bytes, the terminating NUL included.
    private const int MaxPathBytes = 107;

    public static string SectionName => "Socket";

    /// <summary>Empty means <see cref="SocketPaths.DefaultPath()"/>.</summary>
    public string Path { get; set; } = "";

    /// <summary>Octal permission bits, as in chmod.</summary>
    public string Mode { get; set; } = "0660";

    /// <summary>The group the socket is given; empty leaves it in the daemon's own group.</summary>
    public string Group { get; set; } = "gpumux";

    public string ResolvedPath => Path.Length == 0 ? SocketPaths.DefaultPath() : Path;

    public UnixFileMode FileMode => OctalFileMode.Parse(Mode);

    public void Validate(SettingErrors errors)
    {
        if (Path.Length > 0 && !System.IO.Path.IsPathRooted(Path))
        {
            errors.Add(nameof(Path), $"is '{Path}'; it must be an absolute path.");
        }
        var resolved = ResolvedPath;
        var bytes = Encoding.UTF8.GetByteCount(resolved);
        if (bytes > MaxPathBytes)
        {
            errors.Add(nameof(Path), $"is '{resolved}', {bytes} bytes long; a Unix socket path has at most {MaxPathBytes}.");
        }
        if (!OctalFileMode.TryParse(Mode, out _))
        {
            errors.Add(nameof(Mode), $"is '{Mode}'; it must be an octal permission mode from 0000 to 0777, such as 0660.");
        }
    }
}
