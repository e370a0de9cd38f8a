using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Keeps what the daemon logs, for tests that wait for something to have happened inside it.</summary>
internal sealed class LogRecorder : ILoggerProvider
{
    private readonly Channel<Entry> _entries = Channel.CreateUnbounded<Entry>();

    public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, _entries.Writer);

    /// <summary>The message of the next entry that <typeparamref name="TSource"/> logs with <paramref name="eventId"/>; other entries before it are dropped.</summary>
    public async Task<string> NextAsync<TSource>(int eventId)
    {
        while (true)
        {
            var entry = await _entries.Reader.ReadAsync(TestContext.Current.CancellationToken);
            if (entry.Category == typeof(TSource).FullName && entry.EventId == eventId)
            {
                return entry.Message;
            }
        }
    }

    /// <summary>How many of the entries logged so far <typeparamref name="TSource"/> logged with <paramref name="eventId"/>; takes every entry logged so far.</summary>
    public int CountSoFar<TSource>(int eventId) => CountSoFar(typeof(TSource), eventId);

    /// <summary>The same, for a <paramref name="source"/> that cannot be a type argument (a static class).</summary>
    public int CountSoFar(Type source, int eventId)
    {
        var count = 0;
        while (_entries.Reader.TryRead(out var entry))
        {
            count += entry.Category == source.FullName && entry.EventId == eventId ? 1 : 0;
        }
        return count;
    }

    /// <summary>
    /// What <typeparamref name="TSource"/> logs, event id and message, up to and including the next
    /// entry with <paramref name="eventId"/>; other categories' entries are dropped.
    /// </summary>
    public async Task<IReadOnlyList<(int EventId, string Message)>> UntilAsync<TSource>(int eventId)
    {
        List<(int, string)> logged = [];
        while (true)
        {
            var entry = await _entries.Reader.ReadAsync(TestContext.Current.CancellationToken);
            if (entry.Category == typeof(TSource).FullName)
            {
                logged.Add((entry.EventId, entry.Message));
                if (entry.EventId == eventId)
                {
                    return logged;
                }
            }
        }
    }

    public void Dispose() => _entries.Writer.TryComplete();

    private readonly record struct Entry(string Category, int EventId, string Message);

    private sealed class Recorder(string category, ChannelWriter<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.TryWrite(new Entry(category, eventId.Id, formatter(state, exception)));
    }
}
