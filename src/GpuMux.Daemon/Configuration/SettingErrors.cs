using System.Numerics;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// The problems found in one section, each naming the setting as a configuration key
/// (<c>Limits:MaxSessions</c>) and the value it has, so the message says what to change.
/// </summary>
internal sealed class SettingErrors(string section)
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages => _messages;

    public void Add(string setting, string problem) => _messages.Add($"{section}:{setting} {problem}");

    public void RequireRange<T>(string setting, T value, T minimum, T maximum)
        where T : INumber<T>
    {
        // Written so that NaN, which compares false with everything, is out of range too.
        if (!(value >= minimum && value <= maximum))
        {
            Add(setting, $"is {value}; it must be from {minimum} to {maximum}.");
        }
    }

    public void RequireAtLeast<T>(string setting, T value, T minimum)
        where T : INumber<T>
    {
        if (value < minimum)
        {
            Add(setting, $"is {value}; it must be at least {minimum}.");
        }
    }

    public ValidateOptionsResult ToResult() =>
        _messages.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_messages);
}
