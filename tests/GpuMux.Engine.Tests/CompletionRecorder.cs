using System.Threading.Channels;

namespace GpuMux.Engine.Tests;

/// <summary>
/// A sink that queues completions for the test to read. It can hold the engine thread inside the
/// next completion until released, which keeps everything posted meanwhile waiting in the queue.
/// </summary>
internal sealed class CompletionRecorder : IStepCompletionSink
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private readonly Channel<StepCompletion> _completions = Channel.CreateUnbounded<StepCompletion>();
    private readonly ManualResetEventSlim _release = new(initialState: true);
    private TaskCompletionSource? _holding;

    /// <summary>Holds the engine thread in the next completion; the returned task completes once it is held.</summary>
    public Task HoldNextCompletion()
    {
        _release.Reset();
        _holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _holding.Task;
    }

    public void Release() => _release.Set();

    public void OnStepCompleted(in StepCompletion completion)
    {
        _completions.Writer.TryWrite(completion);
        if (Interlocked.Exchange(ref _holding, null) is { } holding)
        {
            holding.SetResult();
            _release.Wait(HangGuard);
        }
    }

    public async Task<StepCompletion> NextAsync() =>
        await _completions.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(HangGuard);

    public async Task<StepCompletion[]> NextAsync(int count)
    {
        var completions = new StepCompletion[count];
        for (var i = 0; i < count; i++)
        {
            completions[i] = await NextAsync();
        }
        return completions;
    }
}
