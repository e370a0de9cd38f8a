namespace GpuMux.Daemon.Hosting;

/// <summary>
/// Lines gpumuxd writes to standard error itself, when there is no host to log through: a failure
/// to start, or what <c>--check-config</c> found. Under systemd standard error goes to the journal
/// at info priority, unless a line starts with a priority as sd-daemon(3) defines it ("&lt;3&gt;" is
/// error), so each line carries its own there.
/// </summary>
internal static class StandardErrorLines
{
    private static readonly bool ToJournal = ServiceManagerRegistration.LogsToJournal(
        Environment.GetEnvironmentVariable("JOURNAL_STREAM"), Environment.GetEnvironmentVariable("INVOCATION_ID"), ServiceManagerRegistration.StreamIdentity(2));

    public static void Error(string line) => Write("<3>", line);

    public static void Warning(string line) => Write("<4>", line);

    private static void Write(string priority, string line) =>
        Console.Error.WriteLine(ToJournal ? $"{priority}gpumuxd: {line}" : $"gpumuxd: {line}");
}
