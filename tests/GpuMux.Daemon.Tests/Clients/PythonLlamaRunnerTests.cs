using GpuMux.Client.Llama;
using GpuMux.Daemon.Tests.EndToEnd;
using GpuMux.Llama.Checkpoints;
using GpuMux.Llama.Reference;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// The Python client's model runner (gpumux.llama, through clients/python/examples/llama_generate.py)
/// against a Sim daemon: prompts started from several threads at once decode the CPU reference's
/// greedy tokens exactly, however they are batched, chunked and split into steps, Qwen2's q, k and v
/// biases included, and a seeded draw gives the .NET runner's tokens. Skipped where python3 3.11 or
/// later is missing.
/// </summary>
public sealed class PythonLlamaRunnerTests : IAsyncLifetime
{
    private static readonly int[][] Prompts = [[1, 17, 200, 42, 42, 7], [5], [9, 9, 9, 100, 31, 2, 250, 3, 77, 14, 140, 8, 1, 60, 61, 62, 63, 90, 91]];
    private const int NewTokens = 10;

    // Four tokens a pass, at most two requests, and room for one layer a step (13 launches, 3 more
    // with q, k and v biases, an append and an attention a request, and the step's UseModel): the long
    // prompt takes several passes, each pass three or more steps, and a cache page holds three positions.
    private static string[] SmallPasses(bool qkvBias = false) =>
        ["--max-batch-tokens", "4", "--max-batch-requests", "2", "--max-ops-per-step", qkvBias ? "21" : "18", "--page-tokens", "3"];

    private readonly DirectoryInfo _models = Directory.CreateTempSubdirectory("gmx-pyllama-");
    private TestDaemon _daemon = null!;
    private string? _python;
    private string _reason = "";

    public async ValueTask InitializeAsync()
    {
        (_python, _reason) = await PythonInterpreter.FindAsync();
        _daemon = await TestDaemon.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _models.Delete(recursive: true);
    }

    [Theory]
    [InlineData(LlamaDType.F16, false, 1, true)]
    [InlineData(LlamaDType.BF16, true, 1, true)]
    [InlineData(LlamaDType.F16, false, 3, true)]
    [InlineData(LlamaDType.BF16, true, 2, false)]
    public async Task Concurrent_prompts_decode_the_reference_greedy_tokens(LlamaDType dtype, bool tied, int shards, bool smallPasses)
    {
        Assert.SkipWhen(_python is null, _reason);
        var directory = Model(LlamaShapes.Tiny with { DType = dtype, TieWordEmbeddings = tied }, seed: 3, shards);

        var tokens = await GenerateAsync(directory, smallPasses ? SmallPasses() : []);

        var reference = new LlamaReference(LlamaWeights.Load(directory));
        Assert.Equal(Prompts.Select(prompt => reference.GreedyDecode(prompt, NewTokens)), tokens);
    }

    [Theory]
    [InlineData(LlamaDType.F16)]
    [InlineData(LlamaDType.BF16)]
    public async Task A_Qwen2_checkpoint_s_q_k_v_biases_are_added_and_its_prompts_decode_the_reference_greedy_tokens(LlamaDType dtype)
    {
        Assert.SkipWhen(_python is null, _reason);
        var directory = Model(LlamaShapes.Tiny with { DType = dtype, QkvBias = true }, seed: 23);

        var tokens = await GenerateAsync(directory, SmallPasses(qkvBias: true));

        var weights = LlamaWeights.Load(directory);
        var expected = Decode(weights);
        Assert.Equal(expected, tokens);

        // Each bias changes the tokens, so a runner that left one out would fail above.
        Assert.NotEqual(expected, Decode(Without(layer => layer with { QBias = null })));
        Assert.NotEqual(expected, Decode(Without(layer => layer with { KBias = null })));
        Assert.NotEqual(expected, Decode(Without(layer => layer with { VBias = null })));

        int[][] Decode(LlamaWeights w) => [.. Prompts.Select(prompt => new LlamaReference(w).GreedyDecode(prompt, NewTokens))];

        LlamaWeights Without(Func<LlamaLayerWeights, LlamaLayerWeights> drop) => weights with { Layers = [.. weights.Layers.Select(drop)] };
    }

    [Fact]
    public async Task A_seeded_draw_gives_the_dotnet_runner_s_tokens()
    {
        Assert.SkipWhen(_python is null, _reason);
        var directory = Model(LlamaShapes.Tiny, seed: 9);
        var sampling = new LlamaGeneration(NewTokens) { Temperature = 1.5f, TopK = 40, TopP = 0.95f, Seed = 1234 };
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: TestContext.Current.CancellationToken);
        var dotnet = await Task.WhenAll(Prompts.Select(prompt => runner.GenerateAsync(prompt, sampling)));

        var python = await GenerateAsync(directory, [.. SmallPasses(), "--temperature", "1.5", "--top-k", "40", "--top-p", "0.95", "--seed", "1234"]);

        Assert.Equal(dotnet, python);
        var reference = new LlamaReference(LlamaWeights.Load(directory));
        Assert.NotEqual(reference.GreedyDecode(Prompts[0], NewTokens), python[0]);
    }

    [Fact]
    public async Task Prompts_whose_caches_together_pass_the_device_run_in_smaller_passes()
    {
        Assert.SkipWhen(_python is null, _reason);
        // Three pages: the weights, the runner's scratch and one request's cache.
        await using var small = await TestDaemon.StartAsync($"--Memory:DevicePoolBytes={3 * (2 << 20)}");
        var directory = Model(LlamaShapes.Tiny, seed: 19);

        var tokens = await GenerateAsync(directory, [], small);

        var reference = new LlamaReference(LlamaWeights.Load(directory));
        Assert.Equal(Prompts.Select(prompt => reference.GreedyDecode(prompt, NewTokens)), tokens);
    }

    private async Task<int[][]> GenerateAsync(string directory, IEnumerable<string> options, TestDaemon? daemon = null)
    {
        string[] arguments =
        [
            Path.Combine("examples", "llama_generate.py"), directory, "--max-new-tokens", $"{NewTokens}",
            .. Prompts.SelectMany(prompt => new[] { "--prompt", string.Join(',', prompt) }), .. options,
        ];
        var output = await ChildProcess.RunToSuccessAsync(PythonInterpreter.StartInfo(_python!, arguments, (daemon ?? _daemon).SocketPath));
        return [.. output.Split('\n').Where(line => line.StartsWith("tokens:", StringComparison.Ordinal))
            .Select(line => line["tokens:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray())];
    }

    private string Model(LlamaConfig config, ulong seed, int shards = 1)
    {
        var directory = Path.Combine(_models.FullName, $"{config.DType}-{config.TieWordEmbeddings}-{config.QkvBias}-{seed}-{shards}");
        LlamaCheckpointWriter.Write(config, seed, directory, shards);
        return directory;
    }
}
