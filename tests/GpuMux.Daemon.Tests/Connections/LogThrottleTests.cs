using GpuMux.Daemon.Connections;
using Microsoft.Extensions.Time.Testing;

namespace GpuMux.Daemon.Tests.Connections;

public sealed class LogThrottleTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<(string Key, int Count)> _summaries = [];

    [Fact]
    public void The_first_line_is_logged_and_the_rest_of_an_interval_summed_up_at_its_end()
    {
        using var throttle = new LogThrottle<string>(_time, (key, count) => _summaries.Add((key, count)));

        Assert.True(throttle.ShouldLog("pid 7"));
        Assert.False(throttle.ShouldLog("pid 7"));
        Assert.False(throttle.ShouldLog("pid 7"));
        Assert.True(throttle.ShouldLog("pid 8"));
        _time.Advance(LogThrottle<string>.Interval);

        Assert.Equal([("pid 7", 2)], _summaries);
    }

    [Fact]
    public void A_flood_that_goes_on_is_summed_up_once_per_interval_and_a_key_quiet_for_one_is_logged_whole_again()
    {
        using var throttle = new LogThrottle<string>(_time, (key, count) => _summaries.Add((key, count)));

        Assert.True(throttle.ShouldLog("pid 7"));
        Assert.False(throttle.ShouldLog("pid 7"));
        _time.Advance(LogThrottle<string>.Interval);
        Assert.False(throttle.ShouldLog("pid 7"));
        _time.Advance(LogThrottle<string>.Interval);
        _time.Advance(LogThrottle<string>.Interval);

        Assert.Equal([("pid 7", 1), ("pid 7", 1)], _summaries);
        Assert.True(throttle.ShouldLog("pid 7"));
    }

    [Fact]
    public void Disposing_sums_up_what_is_still_held_back()
    {
        var throttle = new LogThrottle<string>(_time, (key, count) => _summaries.Add((key, count)));
        throttle.ShouldLog("pid 7");
        throttle.ShouldLog("pid 7");

        throttle.Dispose();

        Assert.Equal([("pid 7", 1)], _summaries);
    }
}
