using GpuMux.Bench.Scheduling;

namespace GpuMux.Bench.Llama;

/// <summary>One request of the Llama trace: its model (by popularity rank), its arrival in seconds from the trace's start, its prompt and how many tokens it generates.</summary>
internal sealed record LlamaTraceRequest(int Id, int Model, double ArrivalSeconds, int[] Prompt, int OutputTokens);

/// <summary>
/// The trace's requests at one rate, from <see cref="TraceGenerator.Arrivals"/>: every rate draws
/// the same sequence, so request k has the same model, prompt and output length at every rate,
/// and its tokens can be checked across runs.
/// </summary>
internal static class LlamaTraceGenerator
{
    public static IReadOnlyList<LlamaTraceRequest> Generate(LlamaTraceParameters parameters, ZipfPopularity popularity, double rate)
    {
        var vocabulary = parameters.Config.VocabSize;
        var requests = new List<LlamaTraceRequest>();
        foreach (var (arrival, model, random) in TraceGenerator.Arrivals(parameters.Seed, popularity, rate, parameters.DurationSeconds))
        {
            var prompt = new int[random.Next(parameters.MinPromptTokens, parameters.MaxPromptTokens + 1)];
            for (var i = 0; i < prompt.Length; i++)
            {
                prompt[i] = random.Next(vocabulary);
            }
            var output = random.Next(parameters.MinOutputTokens, parameters.MaxOutputTokens + 1);
            requests.Add(new LlamaTraceRequest(requests.Count, model, arrival, prompt, output));
        }
        return requests;
    }
}
