using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Logging;

/// <summary>
/// Writes log entries to the journal in its native protocol (<see cref="JournalEntry"/>), so that
/// each value of a message is a field of its own: <c>journalctl GPUMUX_UID=1000</c> finds a
/// tenant's lines. An entry the journal does not take (larger than a datagram, or the journal
/// restarting) goes to <paramref name="fallback"/> as the line systemd's console format writes,
/// which the journal reads from standard output.
/// </summary>
internal sealed class JournalLoggerProvider(string socketPath, TextWriter fallback) : ILoggerProvider
{
    public const string DefaultSocket = "/run/systemd/journal/socket";

    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly UnixDomainSocketEndPoint _journal = new(socketPath);
    private readonly Lock _fallbackGate = new();

    /// <summary>A provider for this host's journal, or null where it has none.</summary>
    public static JournalLoggerProvider? ForThisHost() =>
        File.Exists(DefaultSocket) ? new JournalLoggerProvider(DefaultSocket, Console.Out) : null;

    public ILogger CreateLogger(string categoryName) => new JournalLogger(categoryName, this);

    public void Dispose() => _socket.Dispose();

    private void Write(LogLevel level, string category, EventId eventId, string message, IEnumerable<KeyValuePair<string, object?>> values)
    {
        try
        {
            _socket.SendTo(JournalEntry.Encode(level, category, eventId, message, values), SocketFlags.None, _journal);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            lock (_fallbackGate)
            {
                fallback.WriteLine($"<{JournalEntry.Priority(level)}>{category}[{eventId.Id}] {message}");
                fallback.Flush();
            }
        }
    }

    private sealed class JournalLogger(string category, JournalLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var message = formatter(state, exception);
            if (exception is not null)
            {
                message = $"{message}\n{exception}";
            }
            provider.Write(logLevel, category, eventId, message, state as IEnumerable<KeyValuePair<string, object?>> ?? []);
        }
    }
}
