using GpuMux.Bench.Copies;

namespace GpuMux.Bench;

internal static class Program
{
    private const string Usage = """
        usage: GpuMux.Bench <command> [options]

        commands:
          bandwidth   host-to-device and device-to-host copy bandwidth, pinned and pageable
                      (GpuMux.Bench bandwidth --help)
        """;

    private static int Main(string[] args) => args switch
    {
        ["bandwidth", .. var rest] => BandwidthCommand.Run(rest),
        [] or ["-h" or "--help" or "help"] => PrintUsage(Console.Out, exitCode: 0),
        _ => PrintUsage(Console.Error, exitCode: 2),
    };

    private static int PrintUsage(TextWriter writer, int exitCode)
    {
        writer.WriteLine(Usage);
        return exitCode;
    }
}
