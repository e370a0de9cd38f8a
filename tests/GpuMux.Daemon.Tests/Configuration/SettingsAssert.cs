namespace GpuMux.Daemon.Tests.Configuration;

internal static class SettingsAssert
{
    /// <summary>The properties configuration binds: those with a public setter.</summary>
    public static IEnumerable<System.Reflection.PropertyInfo> Settings<T>() =>
        typeof(T).GetProperties().Where(p => p.SetMethod is { IsPublic: true });

    public static void EqualSettings<T>(T expected, T actual)
    {
        foreach (var setting in Settings<T>())
        {
            Assert.True(Equals(setting.GetValue(expected), setting.GetValue(actual)),
                $"{typeof(T).Name}.{setting.Name}: expected {setting.GetValue(expected)}, got {setting.GetValue(actual)}");
        }
    }
}
