using GpuMux.Client.Llama;
using GpuMux.Llama.Checkpoints;
using GpuMux.Llama.Reference;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// Llama decoding through the daemon on the Sim: a tiny seeded checkpoint run by the .NET client's
/// runner gives the CPU reference's greedy tokens exactly, however its requests are batched, its
/// prompts chunked and its passes split into steps.
/// </summary>
public sealed class LlamaRunnerTests : IAsyncLifetime
{
    private static readonly int[][] Prompts = [[1, 17, 200, 42, 42, 7], [5], [9, 9, 9, 100, 31, 2, 250, 3, 77, 14, 140, 8, 1, 60, 61, 62, 63, 90, 91]];
    private const int NewTokens = 10;

    private readonly DirectoryInfo _models = Directory.CreateTempSubdirectory("gmx-llama-");
    private TestDaemon _daemon = null!;

    public async ValueTask InitializeAsync() => _daemon = await TestDaemon.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _models.Delete(recursive: true);
    }

    [Theory]
    [InlineData(LlamaDType.F16, false, 1)]
    [InlineData(LlamaDType.BF16, true, 1)]
    [InlineData(LlamaDType.F16, false, 3)]
    public async Task Concurrent_requests_decode_the_reference_greedy_tokens(LlamaDType dtype, bool tied, int shards)
    {
        var directory = Model(LlamaShapes.Tiny with { DType = dtype, TieWordEmbeddings = tied }, seed: 3, shards);
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: TestContext.Current.CancellationToken);

        var requests = Prompts.Select(prompt => runner.Start(prompt, new LlamaGeneration(NewTokens))).ToArray();
        var tokens = await Task.WhenAll(requests.Select(r => r.Completion));

        var reference = new LlamaReference(LlamaWeights.Load(directory));
        for (var i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(reference.GreedyDecode(Prompts[i], NewTokens), tokens[i]);
        }
    }

    [Fact]
    public async Task Chunked_prompts_and_passes_split_into_several_steps_give_the_same_tokens()
    {
        var directory = Model(LlamaShapes.Tiny, seed: 5);
        await using var client = await _daemon.ConnectAsync();
        // Four tokens a pass, at most two requests, and room for one layer a step: the long prompt
        // takes several passes, and each pass three or more steps.
        var options = new LlamaRunnerOptions { MaxBatchTokens = 4, MaxBatchRequests = 2, MaxOpsPerStep = 18, PageTokens = 3 };
        await using var runner = await LlamaRunner.OpenAsync(client, directory, options, TestContext.Current.CancellationToken);

        var tokens = await Task.WhenAll(Prompts.Select(prompt => runner.GenerateAsync(prompt, new LlamaGeneration(NewTokens))));

        var reference = new LlamaReference(LlamaWeights.Load(directory));
        for (var i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(reference.GreedyDecode(Prompts[i], NewTokens), tokens[i]);
        }
    }

    [Fact]
    public async Task Tokens_arrive_one_by_one_and_a_stop_token_ends_the_request()
    {
        var directory = Model(LlamaShapes.Tiny, seed: 7);
        var expected = new LlamaReference(LlamaWeights.Load(directory)).GreedyDecode(Prompts[0], NewTokens);
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: TestContext.Current.CancellationToken);

        var request = runner.Start(Prompts[0], new LlamaGeneration(NewTokens) { StopTokens = [expected[3]] });
        var streamed = new List<int>();
        await foreach (var token in request.Tokens.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            streamed.Add(token);
        }

        var stop = Array.IndexOf(expected, expected[3]);
        Assert.Equal(expected[..(stop + 1)], streamed);
        Assert.Equal(streamed, await request.Completion);
    }

    [Fact]
    public async Task Sampling_with_a_seed_repeats_and_stays_in_the_vocabulary()
    {
        var directory = Model(LlamaShapes.Tiny, seed: 9);
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: TestContext.Current.CancellationToken);
        var sampling = new LlamaGeneration(NewTokens) { Temperature = 1.5f, TopK = 40, TopP = 0.95f, Seed = 1234 };

        var first = await runner.GenerateAsync(Prompts[0], sampling);
        var again = await runner.GenerateAsync(Prompts[0], sampling);
        var greedy = await runner.GenerateAsync(Prompts[0], new LlamaGeneration(NewTokens));

        Assert.Equal(first, again);
        Assert.All(first, token => Assert.InRange(token, 0, 255));
        Assert.NotEqual(greedy, first);
    }

    [Fact]
    public async Task A_bad_prompt_or_directory_is_refused_with_the_reason()
    {
        var directory = Model(LlamaShapes.Tiny, seed: 1);
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => runner.Start([3, 256], new LlamaGeneration(1))).Message);
        Assert.Contains("positions", Assert.Throws<ArgumentException>(() => runner.Start([3], new LlamaGeneration(600))).Message);

        File.Delete(Path.Combine(directory, "model.safetensors"));
        var missing = await Assert.ThrowsAsync<InvalidDataException>(() => LlamaRunner.OpenAsync(client, directory, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("model.safetensors", missing.Message);

        // The runner's requests still decode after the refusals.
        Assert.Equal(NewTokens, (await runner.GenerateAsync(Prompts[1], new LlamaGeneration(NewTokens))).Length);
    }

    private string Model(LlamaConfig config, ulong seed, int shards = 1)
    {
        var directory = Path.Combine(_models.FullName, $"{config.DType}-{config.TieWordEmbeddings}-{seed}-{shards}");
        LlamaCheckpointWriter.Write(config, seed, directory, shards);
        return directory;
    }
}
