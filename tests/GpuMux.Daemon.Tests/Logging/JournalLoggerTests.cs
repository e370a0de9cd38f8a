using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using GpuMux.Daemon.Logging;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Tests.Logging;

public sealed partial class JournalLoggerTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gmx-journal-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void An_entry_carries_the_message_its_priority_and_each_value_of_its_template_as_a_field()
    {
        using var journal = BindJournal(out var path);
        using (var provider = new JournalLoggerProvider(path, TextWriter.Null))
        {
            Refused(provider.CreateLogger("GpuMux.Daemon.Connections.ClientConnection"), 4242, 1000);
        }

        var fields = Receive(journal);
        Assert.Equal("Refused a session to pid 4242 uid 1000", fields["MESSAGE"]);
        Assert.Equal("4", fields["PRIORITY"]);
        Assert.Equal("gpumuxd", fields["SYSLOG_IDENTIFIER"]);
        Assert.Equal("GpuMux.Daemon.Connections.ClientConnection", fields["GPUMUX_CATEGORY"]);
        Assert.Equal("208", fields["GPUMUX_EVENT_ID"]);
        Assert.Equal(("4242", "1000"), (fields["GPUMUX_PID"], fields["GPUMUX_UID"]));
    }

    [Fact]
    public void A_value_with_a_newline_goes_with_its_length_and_an_exception_follows_the_message()
    {
        using var journal = BindJournal(out var path);
        using (var provider = new JournalLoggerProvider(path, TextWriter.Null))
        {
            provider.CreateLogger("Test").LogError(new InvalidOperationException("broken"), "Failed twice");
        }

        var fields = Receive(journal);
        Assert.StartsWith("Failed twice\nSystem.InvalidOperationException: broken", fields["MESSAGE"]);
        Assert.Equal("3", fields["PRIORITY"]);
    }

    [Fact]
    public void An_entry_the_journal_does_not_take_is_written_as_a_console_line_with_its_priority()
    {
        var fallback = new StringWriter();
        using (var provider = new JournalLoggerProvider(Path.Combine(_directory.FullName, "absent"), fallback))
        {
            Refused(provider.CreateLogger("Cat"), 7, 8);
        }

        Assert.Equal("<4>Cat[208] Refused a session to pid 7 uid 8" + Environment.NewLine, fallback.ToString());
    }

    [Theory]
    [InlineData("Pid", "GPUMUX_PID")]
    [InlineData("ElapsedMs", "GPUMUX_ELAPSED_MS")]
    [InlineData("MaxSessions2Day", "GPUMUX_MAX_SESSIONS2_DAY")]
    [InlineData("a.b", null)]
    [InlineData("", null)]
    public void Template_names_become_upper_snake_case_fields_or_none(string key, string? field) =>
        Assert.Equal(field, JournalEntry.FieldName(key));

    [LoggerMessage(EventId = 208, Level = LogLevel.Warning, Message = "Refused a session to pid {Pid} uid {Uid}")]
    private static partial void Refused(ILogger logger, int pid, uint uid);

    private Socket BindJournal(out string path)
    {
        path = Path.Combine(_directory.FullName, "journal.socket");
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>One datagram of the journal's native protocol, parsed into its fields.</summary>
    private static Dictionary<string, string> Receive(Socket journal)
    {
        var buffer = new byte[64 << 10];
        journal.ReceiveTimeout = 10_000;
        var datagram = buffer.AsSpan(0, journal.Receive(buffer));
        var fields = new Dictionary<string, string>();
        while (!datagram.IsEmpty)
        {
            var end = datagram.IndexOfAny((byte)'=', (byte)'\n');
            var name = Encoding.ASCII.GetString(datagram[..end]);
            if (datagram[end] == (byte)'=')
            {
                var lineEnd = datagram.IndexOf((byte)'\n');
                fields[name] = Encoding.UTF8.GetString(datagram[(end + 1)..lineEnd]);
                datagram = datagram[(lineEnd + 1)..];
            }
            else
            {
                var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(datagram[(end + 1)..]);
                var start = end + 1 + sizeof(ulong);
                fields[name] = Encoding.UTF8.GetString(datagram.Slice(start, length));
                Assert.Equal((byte)'\n', datagram[start + length]);
                datagram = datagram[(start + length + 1)..];
            }
        }
        return fields;
    }
}
