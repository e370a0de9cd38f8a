using System.CommandLine;
using System.Text;
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

    // sizeof(sun_path) on Linux less the NUL that ends the path, the portable limit (unix(7)); past
    // 108 bytes .NET throws from inside the connect.
    private const int MaxSocketPathBytes = 107;

    /// <summary>The socket to talk to, or null after telling the user why their address is not one.</summary>
    public static string? Resolve(ParseResult parse, Option<string?> host, Terminal terminal)
    {
        string path;
        try
        {
            path = SocketPaths.ResolveClientPath(parse.GetValue(host));
        }
        catch (FormatException e)
        {
            ErrorOutput.Write(terminal.Error, e.Message);
            return null;
        }

        var bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > MaxSocketPathBytes)
        {
            ErrorOutput.Write(terminal.Error, $"the socket path {path} is {bytes} bytes long; a Unix socket's path is at most {MaxSocketPathBytes}.");
            return null;
        }

        return path;
    }
}
