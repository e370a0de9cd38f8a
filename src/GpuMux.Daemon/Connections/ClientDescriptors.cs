using GpuMux.Daemon.Configuration;
using GpuMux.Daemon.Hosting;
using GpuMux.Engine;
using GpuMux.Linux;
using GpuMux.Protocol.Framing;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Sizes the <see cref="DescriptorBudget"/> that clients share, out of the process's descriptor
/// limit: what the daemon has open as it starts and a reserve are kept out of it.
/// </summary>
internal static class ClientDescriptors
{
    /// <summary>
    /// Kept back for what is opened later on no client's behalf: each thread the runtime starts
    /// takes a pipe for a moment, assemblies load, the module cache and the device open files.
    /// </summary>
    public const int Reserve = 128;

    /// <summary>A connection's socket and the descriptors one frame may carry, which it holds until the frame is handled.</summary>
    public const int PerConnection = 1 + FrameHeader.MaxDescriptors;

    public static DescriptorBudget ForThisProcess(LimitsOptions limits, ILogger logger) =>
        Size(DescriptorTable.Limit(), DescriptorTable.OpenCount(), limits, logger);

    public static DescriptorBudget Size(int limit, int open, LimitsOptions limits, ILogger logger)
    {
        var capacity = (long)limit - open - Reserve;
        if (capacity < PerConnection)
        {
            throw new DaemonStartException(
                DaemonExitCode.OsError,
                $"the descriptor limit (RLIMIT_NOFILE) is {limit} and {open} descriptors are open already, which leaves no room for a client beside the {Reserve} kept in reserve: raise it (LimitNOFILE= in the unit, ulimit -n in a shell)");
        }

        var budget = new DescriptorBudget((int)Math.Min(capacity, int.MaxValue));
        var connections = budget.Capacity / PerConnection;
        var wanted = (long)limits.MaxSessions + limits.MaxPendingHandshakes;
        if (connections < wanted)
        {
            ClientDescriptorsLog.TooFew(logger, limit, open, connections, wanted);
        }
        else
        {
            ClientDescriptorsLog.Sized(logger, limit, open, budget.Capacity);
        }
        return budget;
    }
}

internal static partial class ClientDescriptorsLog
{
    [LoggerMessage(EventId = 330, Level = LogLevel.Debug, Message = "Descriptor limit {Limit}, {Open} open at start: {Capacity} may be held for clients")]
    public static partial void Sized(ILogger logger, int limit, int open, int capacity);

    [LoggerMessage(EventId = 331, Level = LogLevel.Warning, Message = "The descriptor limit (RLIMIT_NOFILE) of {Limit}, with {Open} open at start, leaves room for {Connections} connections, fewer than Limits:MaxSessions and Limits:MaxPendingHandshakes allow together ({Wanted}): further clients wait in the socket's backlog. Raise LimitNOFILE= in the unit")]
    public static partial void TooFew(ILogger logger, int limit, int open, int connections, long wanted);
}
