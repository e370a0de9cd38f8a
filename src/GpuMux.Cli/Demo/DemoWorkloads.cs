namespace GpuMux.Cli.Demo;

/// <summary>The workloads, dealt round-robin to the sessions, each seeded by its session.</summary>
internal static class DemoWorkloads
{
    public static DemoWorkload For(int session) => (session % 4) switch
    {
        0 => new AxpyWorkload(session),
        1 => new GemvWorkload(session),
        2 => new ChecksumWorkload(session),
        _ => new FillChecksumWorkload(session),
    };
}
