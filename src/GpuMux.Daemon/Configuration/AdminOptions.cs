namespace GpuMux.Daemon.Configuration;

/// <summary>
/// Who administers the daemon: besides root and the daemon's own user, the members of
/// <see cref="Group"/> see every tenant's sessions and models in full in the operator reports
/// (<c>gpumuxctl status</c>, <c>tenants</c>, <c>models</c>); everyone else sees their own, and
/// other tenants only as totals.
/// </summary>
internal sealed class AdminOptions : IDaemonSettings
{
    public static string SectionName => "Admin";

    /// <summary>Empty, or a group that does not exist, leaves only root and the daemon's own user.</summary>
    public string Group { get; set; } = "gpumux-admin";

    public void Validate(SettingErrors errors)
    {
        if (Group.Any(c => char.IsWhiteSpace(c) || c is ':' or ',' or '/'))
        {
            errors.Add(nameof(Group), $"is '{Group}'; a group name has no spaces, ':', ',' or '/'.");
        }
    }
}
