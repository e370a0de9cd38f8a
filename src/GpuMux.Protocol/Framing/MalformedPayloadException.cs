namespace GpuMux.Protocol.Framing;

/// <summary>
/// A payload that does not decode as its type says. The frame boundary is still known, so the
/// connection survives: the daemon answers with <see cref="ErrorCode.MalformedFrame"/>.
/// </summary>
public sealed class MalformedPayloadException(string message) : Exception(message);
