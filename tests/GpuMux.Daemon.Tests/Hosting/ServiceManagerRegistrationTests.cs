using GpuMux.Daemon.Hosting;

namespace GpuMux.Daemon.Tests.Hosting;

public sealed class ServiceManagerRegistrationTests
{
    [Theory]
    [InlineData("2049:1234", null, true)]
    [InlineData("2049:1234", "0123456789abcdef", true)]
    [InlineData(null, "0123456789abcdef", true)]
    [InlineData("", "0123456789abcdef", true)]
    // A terminal started by a service inherits its variables, its own output elsewhere.
    [InlineData("2049:9999", "0123456789abcdef", false)]
    [InlineData(null, null, false)]
    [InlineData("", "", false)]
    public void Logs_take_the_journals_form_when_standard_output_is_the_stream_systemd_named_or_systemd_runs_the_daemon(
        string? journalStream, string? invocationId, bool journal)
    {
        Assert.Equal(journal, ServiceManagerRegistration.LogsToJournal(journalStream, invocationId, (2049, 1234)));
    }
}
