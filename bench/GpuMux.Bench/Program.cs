using GpuMux.Bench.Accounting;
using GpuMux.Bench.Copies;
using GpuMux.Bench.Execution;
using GpuMux.Bench.Llama;
using GpuMux.Bench.Memory;
using GpuMux.Bench.Models;
using GpuMux.Bench.Protocol;
using GpuMux.Bench.Robustness;
using GpuMux.Bench.Scheduling;

namespace GpuMux.Bench;

internal static class Program
{
    private const string Usage = """
        usage: GpuMux.Bench <command> [options]

        commands:
          bandwidth   host-to-device and device-to-host copy bandwidth, pinned and pageable
                      (GpuMux.Bench bandwidth --help)
          swap        swap-in bandwidth of 256 MiB to 4 GiB models against the pinned and pageable copy
                      peaks, and a cold first step against transfer-then-compute (GpuMux.Bench swap --help)
          interactive interactive step latency, p50 and p99, under a saturating batch tenant against an
                      idle device, and with both in one class (GpuMux.Bench interactive --help)
          trace       a many-model trace with skewed popularity under the step, request and dedicated
                      scheduling policies: the share of steps within a time-per-step objective against
                      request rate (GpuMux.Bench trace --help)
          trace-llama the many-model trace on generated Llama-format models, each served by a LlamaRunner through
                      gpumuxd: time to first token and per output token against objectives, goodput and the
                      sustainable rate under each policy (GpuMux.Bench trace-llama --help)
          charge      tenants of unequal weights sharing a class: each one's charged device time against
                      its kernels' own time, and Jain's index of weighted shares per second
                      (GpuMux.Bench charge --help)
          pool        the driver calls and host time of mapping a 1 to 16 GiB model into the device pool,
                      per page size (GpuMux.Bench pool --help)
          protocol    frame encode/decode, and an empty step's round trip through the daemon
                      against a raw Unix-socket ping-pong (GpuMux.Bench protocol --help)
          scheduler   one scheduling decision's time and allocations with 10 to 10,000 steps held over
                      1, 10 and 100 tenants in three classes, BenchmarkDotNet (GpuMux.Bench scheduler --help)
          wake        how soon a step's end reaches its client (in-process to the session; through gpumuxd to
                      the frame written and to the .NET client's caller; p50 and p99, idle and under load) and
                      the engine thread's CPU time and wake-ups, idle and busy (GpuMux.Bench wake --help)
          steps       empty steps' rate with 1, 8 and 64 in flight on 1 and 16 connections against a raw
                      Unix-socket echo, and the bytes the daemon and the client allocate per step
                      (GpuMux.Bench steps --help)
          make-model  a Llama-format checkpoint with seeded random weights at a named or custom shape, f16 or
                      bf16, in one file or shards (GpuMux.Bench make-model --help)
          robustness  gpumuxd, as a process of its own, under fuzzed frames and descriptors, killed
                      clients, many clients, mutated models and signals: deaths, hangs, wrong results,
                      honest clients' errors and resources given back, counted (GpuMux.Bench robustness --help)
        """;

    private static int Main(string[] args) => args switch
    {
        ["bandwidth", .. var rest] => BandwidthCommand.Run(rest),
        ["swap", .. var rest] => SwapCommand.Run(rest),
        ["interactive", .. var rest] => InteractiveCommand.Run(rest),
        ["trace", .. var rest] => TraceCommand.Run(rest),
        ["trace-llama", .. var rest] => LlamaTraceCommand.Run(rest),
        ["charge", .. var rest] => ChargeCommand.Run(rest),
        ["pool", .. var rest] => PoolCommand.Run(rest),
        ["protocol", "-h" or "--help"] => PrintUsage(Console.Out, ProtocolCommand.Usage, exitCode: 0),
        ["protocol", .. var rest] => ProtocolCommand.Run(rest),
        ["scheduler", "-h" or "--help"] => PrintUsage(Console.Out, SchedulerCommand.Usage, exitCode: 0),
        ["scheduler", .. var rest] => SchedulerCommand.Run(rest),
        ["steps", "-h" or "--help"] => PrintUsage(Console.Out, StepPathCommand.Usage, exitCode: 0),
        ["steps", .. var rest] => StepPathCommand.Run(rest),
        ["make-model", "-h" or "--help"] => PrintUsage(Console.Out, MakeModelCommand.Usage, exitCode: 0),
        ["make-model", .. var rest] => MakeModelCommand.Run(rest),
        ["robustness", .. var rest] => RobustnessCommand.Run(rest),
        ["wake", "-h" or "--help"] => PrintUsage(Console.Out, WakeOptions.Usage, exitCode: 0),
        ["wake", .. var rest] => WakeCommand.Run(rest),
        [] or ["-h" or "--help" or "help"] => PrintUsage(Console.Out, Usage, exitCode: 0),
        _ => PrintUsage(Console.Error, Usage, exitCode: 2),
    };

    private static int PrintUsage(TextWriter writer, string usage, int exitCode)
    {
        writer.WriteLine(usage);
        return exitCode;
    }
}
