using System.CommandLine;
using GpuMux.Cli.Output;
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

    /// <summary>The socket to talk to, or null after telling the user why their address is not one.</summary>
    public static string? Resolve(ParseResult parse, Option<string?> host, Terminal terminal)
    {
        try
        {
            return SocketPaths.ResolveClientPath(parse.GetValue(host));
        }
        catch (FormatException e)
        {
            ErrorOutput.Write(terminal.Error, e.Message);
            return null;
        }
    }
}
