namespace GpuMux.Bench;

/// <summary>A command line the command cannot run: exit code 2, with the command's usage.</summary>
internal sealed class UsageException(string message) : Exception(message);
