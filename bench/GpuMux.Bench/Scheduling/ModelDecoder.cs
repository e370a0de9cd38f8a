using GpuMux.Engine;
using GpuMux.Engine.Device;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// The decode loop of one model, batching continuously as an inference server does: each step
/// produces the next token of every request of the model under way, a request that arrives joins
/// at the next step submitted, and one that has all its tokens leaves. A step's device time does
/// not grow with its batch: decoding a few requests at once is bound by reading the weights.
/// <para>
/// Each step carries the earliest deadline among its requests' tokens, token i of a request
/// being due <see cref="RequestOutcome.DueMilliseconds"/> after its arrival, and never fails for
/// being late. One step is submitted at a time, unless a request arrives whose next token is due
/// before the step waiting: then the next step is submitted at once, behind it, and the engine
/// orders the waiting step by the earlier deadline. The step after which no request is under way
/// ends the request as the engine sees it, so under the Request policy a model stays resident
/// while it has requests to serve.
/// </para>
/// </summary>
internal sealed class ModelDecoder(ModelSession session, double sloMilliseconds, long cutoffNs)
{
    private readonly Lock _gate = new();
    private readonly List<InFlight> _joining = [];
    private TaskCompletionSource _joined = NewSignal();
    private bool _decoding;
    private int _steps;

    /// <summary>Steps this model ran, each one token of every request in its batch.</summary>
    public int Steps => Volatile.Read(ref _steps);

    /// <summary>Serves <paramref name="request"/>, which arrived at <paramref name="arrivalNs"/>: it joins the model's batch at its next step.</summary>
    public Task<RequestOutcome> ServeAsync(TraceRequest request, long arrivalNs)
    {
        var inFlight = new InFlight(request, arrivalNs);
        if (session.Refusal is not null)
        {
            return Task.FromResult(inFlight.Outcome(refused: true, failure: null));
        }
        bool start;
        lock (_gate)
        {
            _joining.Add(inFlight);
            _joined.TrySetResult();
            start = !_decoding;
            _decoding = true;
        }
        if (start)
        {
            _ = Task.Run(DecodeAsync);
        }
        return inFlight.Done.Task;
    }

    private async Task DecodeAsync()
    {
        var underWay = new List<InFlight>();
        var submitted = new Queue<SubmittedStep>();
        while (true)
        {
            Task joined;
            lock (_gate)
            {
                underWay.AddRange(_joining);
                _joining.Clear();
                if (underWay.Count == 0)
                {
                    _decoding = false;
                    return;
                }
                _joined = NewSignal();
                joined = _joined.Task;
            }
            var left = cutoffNs - MonotonicClock.NowNanoseconds();
            if (left <= 0)
            {
                // The cut-off: what is not done by now counts as missed.
                Finish(underWay, failure: null);
                continue;
            }
            if (submitted.Count == 0 || (submitted.Count < ModelSession.StepsSubmittedAtOnce && IsDueBefore(underWay, submitted.Last())))
            {
                submitted.Enqueue(Submit(underWay));
                continue;
            }
            var next = submitted.Peek();
            await WaitAtMostAsync(Task.WhenAny(next.Outcome, joined), left).ConfigureAwait(false);
            if (!next.Outcome.IsCompleted)
            {
                continue;
            }
            submitted.Dequeue();
            Interlocked.Increment(ref _steps);
            var outcome = next.Outcome.Result;
            if (!outcome.Succeeded)
            {
                Finish(underWay, outcome.Completion.Status);
                // The steps behind it share its result slots: none is submitted until they are done.
                await WaitAtMostAsync(Task.WhenAll(submitted.Select(s => s.Outcome)), left).ConfigureAwait(false);
                submitted.Clear();
                continue;
            }
            foreach (var request in next.Batch)
            {
                request.Delivered(outcome.DeliveredAtNs);
            }
            underWay.RemoveAll(r => r.TryComplete());
        }
    }

    private static async Task WaitAtMostAsync(Task task, long leftNs)
    {
        try
        {
            await task.WaitAsync(TimeSpan.FromMilliseconds(leftNs / 1e6)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>Whether a request under way has its next token not yet in a submitted step due before <paramref name="last"/>, the step it would wait behind.</summary>
    private bool IsDueBefore(List<InFlight> underWay, SubmittedStep last) =>
        underWay.Exists(r => r.HasUnplanned && r.NextUnplannedDueNs(sloMilliseconds) < last.DeadlineNs);

    /// <summary>Submits the step of the next token of every request under way that has one not yet submitted.</summary>
    private SubmittedStep Submit(List<InFlight> underWay)
    {
        var batch = underWay.FindAll(r => r.HasUnplanned);
        var deadlineNs = batch.Min(r => r.NextUnplannedDueNs(sloMilliseconds));
        var endsRequest = batch.Count == underWay.Count && batch.TrueForAll(r => r.UnplannedTokens == 1);
        foreach (var request in batch)
        {
            request.Planned();
        }
        return new SubmittedStep(batch, deadlineNs, session.RunStepAsync(deadlineNs, endsRequest));
    }

    private static void Finish(List<InFlight> underWay, EngineError? failure)
    {
        foreach (var request in underWay)
        {
            request.Done.SetResult(request.Outcome(refused: false, failure));
        }
        underWay.Clear();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A step submitted and not yet completed: the requests it is a token of, and its deadline.</summary>
    private sealed record SubmittedStep(List<InFlight> Batch, long DeadlineNs, Task<StepOutcome> Outcome);

    /// <summary>A request under way: its tokens' delivery times so far, from its arrival, in milliseconds, and how many of its tokens steps were submitted for.</summary>
    private sealed class InFlight(TraceRequest request, long arrivalNs)
    {
        private int _done;
        private int _planned;

        private readonly double[] _tokens = [.. Enumerable.Repeat(double.NaN, request.Steps)];

        public TaskCompletionSource<RequestOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int UnplannedTokens => request.Steps - _planned;

        public bool HasUnplanned => UnplannedTokens > 0;

        public long NextUnplannedDueNs(double sloMilliseconds) => arrivalNs + (long)(RequestOutcome.DueMilliseconds(_planned, sloMilliseconds) * 1e6);

        public void Planned() => _planned++;

        public void Delivered(long deliveredAtNs) => _tokens[_done++] = (deliveredAtNs - arrivalNs) / 1e6;

        public bool TryComplete()
        {
            if (_done < request.Steps)
            {
                return false;
            }
            Done.SetResult(Outcome(refused: false, failure: null));
            return true;
        }

        public RequestOutcome Outcome(bool refused, EngineError? failure) => new(request, _tokens, refused, failure);
    }
}
