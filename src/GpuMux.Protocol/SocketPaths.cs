namespace GpuMux.Protocol;

/// <summary>Where the daemon listens when nobody says otherwise, and how clients name it.</summary>
public static class SocketPaths
{
    public const string SystemPath = "/run/gpumuxd/gpumuxd.sock";

    /// <summary>The environment variable clients read for the daemon's address (<c>unix:/path</c> or a path).</summary>
    public const string HostVariable = "GPUMUX_HOST";

    /// <summary>
    /// The system socket for root; otherwise <c>$XDG_RUNTIME_DIR/gpumuxd.sock</c>, or a private
    /// directory under <c>/tmp</c> when there is no runtime directory.
    /// </summary>
    public static string DefaultPath() =>
        DefaultPath(Environment.IsPrivilegedProcess, Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), CurrentUid());

    internal static string DefaultPath(bool privileged, string? runtimeDirectory, uint uid) =>
        privileged ? SystemPath
        : !string.IsNullOrEmpty(runtimeDirectory) ? Path.Combine(runtimeDirectory, "gpumuxd.sock")
        : Path.Combine(FallbackDirectory(uid), "gpumuxd.sock");

    /// <summary>The directory of a user's socket when there is no runtime directory; see <see cref="Transport.PrivateSocketDirectory"/>.</summary>
    internal static string FallbackDirectory(uint uid) => $"/tmp/gpumuxd-{uid}";

    /// <summary>
    /// Checks the fallback directory of this user when <paramref name="socketPath"/> is in it (see
    /// <see cref="Transport.PrivateSocketDirectory"/>), creating it first if <paramref name="create"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The directory is not this user's alone.</exception>
    public static void SecureFallbackDirectory(string socketPath, bool create)
    {
        var uid = CurrentUid();
        var directory = FallbackDirectory(uid);
        if (!string.Equals(Path.GetDirectoryName(Path.GetFullPath(socketPath)), directory, StringComparison.Ordinal))
        {
            return;
        }
        if (create)
        {
            Transport.PrivateSocketDirectory.CreateOrCheck(directory, uid);
        }
        else
        {
            Transport.PrivateSocketDirectory.ThrowIfUnsafe(directory, uid);
        }
    }

    /// <summary>
    /// The socket a client should use: <paramref name="host"/> if given, else <c>$GPUMUX_HOST</c>,
    /// else this user's daemon, else the system daemon. A host is a path or <c>unix:</c> and a path.
    /// </summary>
    public static string ResolveClientPath(string? host = null)
    {
        host ??= Environment.GetEnvironmentVariable(HostVariable);
        if (string.IsNullOrWhiteSpace(host))
        {
            var own = DefaultPath();
            return !File.Exists(own) && File.Exists(SystemPath) ? SystemPath : own;
        }

        const string scheme = "unix:";
        var path = host.StartsWith(scheme, StringComparison.Ordinal) ? host[scheme.Length..] : host;
        if (path.Contains("://", StringComparison.Ordinal) || path.Length == 0)
        {
            throw new FormatException($"'{host}' is not a Unix socket address; expected unix:/path/to/gpumuxd.sock");
        }

        return path;
    }

    private static uint CurrentUid() => (uint)Tmds.Linux.LibC.geteuid();
}
