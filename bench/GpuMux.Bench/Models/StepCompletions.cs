using System.Threading.Channels;
using GpuMux.Engine;

namespace GpuMux.Bench.Models;

/// <summary>Hands each completion from the engine thread to the benchmark, which awaits them one by one.</summary>
internal sealed class StepCompletions : IStepCompletionSink
{
    // Longer than any step of a 10 GB model on the Sim backend; reached only if the engine hangs.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(5);

    private readonly Channel<StepCompletion> _completions = Channel.CreateUnbounded<StepCompletion>(new UnboundedChannelOptions { SingleReader = true });

    public void OnStepCompleted(in StepCompletion completion) => _completions.Writer.TryWrite(completion);

    public async Task<StepCompletion> NextAsync() =>
        await _completions.Reader.ReadAsync().AsTask().WaitAsync(HangGuard).ConfigureAwait(false);
}
