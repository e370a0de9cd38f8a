using System.CommandLine;
using GpuMux.Protocol;

namespace GpuMux.Cli.Commands;

/// <summary><c>--host unix:/path</c>: which daemon to talk to.</summary>
internal static class HostOption
{
    public static Option<string?> Create() => new("--host")
    {
        Description = $"The daemon's socket, as unix:/path or a path. Default: ${SocketPaths.HostVariable}, "
            + $"else your own daemon's {SocketPaths.DefaultPath()} if it is there, else the system daemon's {SocketPaths.SystemPath}.",
        HelpName = "unix:/path",
    };
}
