using GpuMux.Engine;
using GpuMux.Engine.Device;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// The decode loop of one model, batching continuously as an inference server does: each step
/// produces the next token of every request of the model under way, a request that arrives while
/// a step runs joins at the next one, and one that has all its tokens leaves. A step's device time
/// does not grow with its batch: decoding a few requests at once is bound by reading the weights.
/// <para>
/// Each step carries the earliest deadline among its requests' next tokens, token i of a request
/// being due <see cref="RequestOutcome.DueMilliseconds"/> after its arrival, and never fails for
/// being late. The step after which no request is under way ends the request as the engine sees
/// it, so under the Request policy a model stays resident while it has requests to serve.
/// </para>
/// </summary>
internal sealed class ModelDecoder(ModelSession session, double sloMilliseconds, long cutoffNs)
{
    private readonly Lock _gate = new();
    private readonly List<InFlight> _joining = [];
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
        var batch = new List<InFlight>();
        while (true)
        {
            bool endsRequest;
            lock (_gate)
            {
                batch.AddRange(_joining);
                _joining.Clear();
                if (batch.Count == 0)
                {
                    _decoding = false;
                    return;
                }
                endsRequest = batch.TrueForAll(r => r.TokensLeft == 1);
            }
            var left = cutoffNs - MonotonicClock.NowNanoseconds();
            StepOutcome outcome;
            try
            {
                if (left <= 0)
                {
                    throw new TimeoutException();
                }
                var deadlineNs = batch.Min(r => r.NextDueNs(sloMilliseconds));
                outcome = await session.RunStepAsync(deadlineNs, endsRequest).WaitAsync(TimeSpan.FromMilliseconds(left / 1e6)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The cut-off: what is not done by now counts as missed.
                Finish(batch, failure: null);
                continue;
            }
            Interlocked.Increment(ref _steps);
            if (!outcome.Succeeded)
            {
                Finish(batch, outcome.Completion.Status);
                continue;
            }
            foreach (var request in batch)
            {
                request.Delivered(outcome.DeliveredAtNs);
            }
            batch.RemoveAll(r => r.TryComplete());
        }
    }

    private static void Finish(List<InFlight> batch, EngineError? failure)
    {
        foreach (var request in batch)
        {
            request.Done.SetResult(request.Outcome(refused: false, failure));
        }
        batch.Clear();
    }

    /// <summary>A request in the batch: its tokens' delivery times so far, from its arrival, in milliseconds.</summary>
    private sealed class InFlight(TraceRequest request, long arrivalNs)
    {
        private int _done;

        private readonly double[] _tokens = [.. Enumerable.Repeat(double.NaN, request.Steps)];

        public TaskCompletionSource<RequestOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int TokensLeft => request.Steps - _done;

        public long NextDueNs(double sloMilliseconds) => arrivalNs + (long)(RequestOutcome.DueMilliseconds(_done, sloMilliseconds) * 1e6);

        public void Delivered(long deliveredAtNs) => _tokens[_done++] = (deliveredAtNs - arrivalNs) / 1e6;

        public bool TryComplete()
        {
            if (TokensLeft > 0)
            {
                return false;
            }
            Done.SetResult(Outcome(refused: false, failure: null));
            return true;
        }

        public RequestOutcome Outcome(bool refused, EngineError? failure) => new(request, _tokens, refused, failure);
    }
}
