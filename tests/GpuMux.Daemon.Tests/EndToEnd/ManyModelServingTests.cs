using GpuMux.Client;
using GpuMux.Client.Llama;
using GpuMux.Llama.Checkpoints;
using GpuMux.Llama.Reference;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// Four Llama-format models, each served by its own client as separate services would be, whose
/// weights and KV caches together are several times the daemon's device pool: their requests,
/// interleaved, all decode the CPU reference's tokens while models swap and caches spill to host
/// memory and come back, as <c>gpumuxctl models</c> shows.
/// </summary>
public sealed class ManyModelServingTests : IAsyncLifetime
{
    private const int Models = 4;
    private const int RequestsPerModel = 4;
    private const int NewTokens = 24;
    private const int PageBytes = 2 << 20;

    // About 6 MiB of f16 weights (three pool pages) and one page of KV cache per request.
    private static readonly LlamaConfig Shape = LlamaShapes.Tiny with
    {
        HiddenSize = 256, IntermediateSize = 640, NumHiddenLayers = 4, NumAttentionHeads = 8, NumKeyValueHeads = 4, VocabSize = 512,
    };

    private readonly DirectoryInfo _models = Directory.CreateTempSubdirectory("gmx-many-");
    private TestDaemon _daemon = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Twelve pages: the four models' weights alone take twelve, their sixteen caches sixteen more.
    public async ValueTask InitializeAsync() => _daemon = await TestDaemon.StartAsync($"--Memory:DevicePoolBytes={12 * PageBytes}");

    public async ValueTask DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _models.Delete(recursive: true);
    }

    [Fact]
    public async Task Interleaved_requests_on_four_models_past_the_pool_all_decode_the_reference_tokens()
    {
        var directories = Enumerable.Range(0, Models).Select(m => Model((ulong)(100 + m))).ToArray();
        var clients = new GpuMuxClient[Models];
        var runners = new LlamaRunner[Models];
        try
        {
            for (var m = 0; m < Models; m++)
            {
                clients[m] = await _daemon.ConnectAsync($"model-{m}");
                runners[m] = await LlamaRunner.OpenAsync(clients[m], directories[m], new LlamaRunnerOptions { Name = $"model-{m}", MaxBatchTokens = 64 }, Ct);
            }

            var prompts = Enumerable.Range(0, RequestsPerModel).Select(r => Enumerable.Range(0, 3 + (5 * r)).Select(i => ((i * 37) + (r * 11) + 1) % Shape.VocabSize).ToArray()).ToArray();
            var requests = new (int Model, int Prompt, Task<int[]> Tokens)[Models * RequestsPerModel];
            for (var r = 0; r < RequestsPerModel; r++)
            {
                for (var m = 0; m < Models; m++)
                {
                    requests[(r * Models) + m] = (m, r, runners[m].GenerateAsync(prompts[r], new LlamaGeneration(NewTokens), Ct));
                }
            }

            await Task.WhenAll(requests.Select(r => r.Tokens));

            for (var m = 0; m < Models; m++)
            {
                var reference = new LlamaReference(LlamaWeights.Load(directories[m]));
                foreach (var request in requests.Where(r => r.Model == m))
                {
                    Assert.Equal(reference.GreedyDecode(prompts[request.Prompt], NewTokens), await request.Tokens);
                }
            }

            var listed = await clients[0].ListModelsAsync(Ct);
            Assert.True(listed.Models.Where(e => e.Name.StartsWith("model-", StringComparison.Ordinal)).Sum(e => (long)e.SwapCount) > Models, "the models fit the pool together: nothing swapped");
            var spills = Assert.NotNull(listed.Spills);
            Assert.True(spills.Spills > 0 && spills.Restores > 0, $"no KV cache left the device: {spills}");
        }
        finally
        {
            foreach (var runner in runners.Where(r => r is not null))
            {
                await runner.DisposeAsync();
            }

            foreach (var client in clients.Where(c => c is not null))
            {
                await client.DisposeAsync();
            }
        }
    }

    private string Model(ulong seed)
    {
        var directory = Path.Combine(_models.FullName, $"m{seed}");
        LlamaCheckpointWriter.Write(Shape, seed, directory);
        return directory;
    }
}
