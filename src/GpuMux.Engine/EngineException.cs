namespace GpuMux.Engine;

/// <summary>An expected failure of an engine request, with the <see cref="EngineError"/> the daemon reports for it.</summary>
public sealed class EngineException(EngineError error, string message, Exception? inner = null) : Exception(message, inner)
{
    public EngineError Error { get; } = error;
}
