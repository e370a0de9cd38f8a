namespace GpuMux.Protocol;

public static class ProtocolVersion
{
    /// <summary>The bytes <c>G M U X</c> read as a little-endian u32.</summary>
    public const uint Magic = 0x58554D47;

    public const ushort Major = 1;

    public const ushort Minor = 6;

    /// <summary>The payload limit before the handshake has told the client the daemon's own.</summary>
    public const int HandshakePayloadBytes = 4096;

    /// <summary>Longest string field, in UTF-8 bytes.</summary>
    public const int MaxStringBytes = ushort.MaxValue;
}
