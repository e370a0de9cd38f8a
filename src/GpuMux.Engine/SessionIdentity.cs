namespace GpuMux.Engine;

/// <summary>Who is on the other end of a session, as the daemon read it from the socket (SO_PEERCRED) and the handshake.</summary>
public readonly record struct SessionIdentity(uint Uid, uint Gid, int Pid, string ClientName);
