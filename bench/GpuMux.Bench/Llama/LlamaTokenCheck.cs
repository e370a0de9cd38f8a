using GpuMux.Llama.Reference;

namespace GpuMux.Bench.Llama;

/// <summary>
/// Checks every completed request's tokens: against the CPU reference's greedy decoding where the
/// shape is small enough for the host to decode (each request once, whatever the run, since
/// request k is the same at every rate), and against the same request's tokens in every other run.
/// </summary>
internal sealed class LlamaTokenCheck(IReadOnlyList<string> modelDirectories, bool useReference)
{
    private readonly Dictionary<int, int[]> _expected = [];
    private readonly Dictionary<int, LlamaReference> _references = [];

    public bool UsesReference => useReference;

    public int Checked { get; private set; }

    public int Wrong { get; private set; }

    public void Check(LlamaPolicyRun run)
    {
        foreach (var outcome in run.Requests.Where(o => o.Completed))
        {
            var request = outcome.Request;
            if (!_expected.TryGetValue(request.Id, out var expected))
            {
                expected = useReference ? Reference(request.Model).GreedyDecode(request.Prompt, request.OutputTokens) : outcome.Tokens;
                _expected[request.Id] = expected;
            }
            Checked++;
            if (!expected.AsSpan().SequenceEqual(outcome.Tokens))
            {
                Wrong++;
            }
        }
    }

    private LlamaReference Reference(int model)
    {
        if (!_references.TryGetValue(model, out var reference))
        {
            reference = new LlamaReference(LlamaWeights.Load(modelDirectories[model]));
            _references[model] = reference;
        }
        return reference;
    }
}
