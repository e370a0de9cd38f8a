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

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

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
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct);

        var requests = Prompts.Select(prompt => runner.Start(prompt, new LlamaGeneration(NewTokens), Ct)).ToArray();
        var tokens = await Task.WhenAll(requests.Select(r => r.Completion));

        var reference = new LlamaReference(LlamaWeights.Load(directory));
        for (var i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(reference.GreedyDecode(Prompts[i], NewTokens), tokens[i]);
        }
    }

    [Theory]
    [InlineData(LlamaDType.F16)]
    [InlineData(LlamaDType.BF16)]
    public async Task A_Qwen2_checkpoint_s_q_k_v_biases_are_added_and_its_requests_decode_the_reference_greedy_tokens(LlamaDType dtype)
    {
        var directory = Model(LlamaShapes.Tiny with { DType = dtype, QkvBias = true }, seed: 23);
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct);

        var requests = Prompts.Select(prompt => runner.Start(prompt, new LlamaGeneration(NewTokens), Ct)).ToArray();
        var tokens = await Task.WhenAll(requests.Select(r => r.Completion));

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
    public void A_checkpoint_with_a_bias_its_config_does_not_call_for_or_without_one_it_does_is_refused_naming_it()
    {
        var llama = Model(LlamaShapes.Tiny, seed: 1);
        var qwen2 = Model(LlamaShapes.Tiny with { QkvBias = true }, seed: 1);

        // Only model_type tells the two apart: the weights of each under the other's config.
        var llamaConfig = File.ReadAllText(Path.Combine(llama, "config.json"));
        File.WriteAllText(Path.Combine(llama, "config.json"), File.ReadAllText(Path.Combine(qwen2, "config.json")));
        File.WriteAllText(Path.Combine(qwen2, "config.json"), llamaConfig);

        Assert.Contains("lack model.layers.0.self_attn.q_proj.bias", Assert.Throws<InvalidDataException>(() => LlamaCheckpoint.Open(llama)).Message);
        Assert.Contains("hold model.layers.0.self_attn.q_proj.bias", Assert.Throws<InvalidDataException>(() => LlamaCheckpoint.Open(qwen2)).Message);
    }

    [Theory]
    [InlineData(LlamaDType.F16)]
    [InlineData(LlamaDType.BF16)]
    public async Task Logits_agree_with_the_reference_within_the_stated_tolerance(LlamaDType dtype)
    {
        var directory = Model(LlamaShapes.Tiny with { DType = dtype }, seed: 21);
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, new LlamaRunnerOptions { KeepLogits = true }, Ct);

        var request = runner.Start(Prompts[2], new LlamaGeneration(NewTokens), Ct);
        var tokens = await request.Completion;

        var reference = new LlamaReference(LlamaWeights.Load(directory));
        var cache = reference.NewCache();
        var expected = reference.Forward(Prompts[2], cache)[^1];
        for (var i = 0; i < tokens.Length; i++)
        {
            var scale = expected.Max(MathF.Abs);
            var error = expected.Zip(request.Logits[i], (e, a) => MathF.Abs(e - a)).Max();
            Assert.True(error <= LlamaRunner.LogitTolerance * scale, $"token {i}: logits differ by {error}, over {LlamaRunner.LogitTolerance} x {scale}");
            expected = reference.Forward([tokens[i]], cache)[0];
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
        await using var runner = await LlamaRunner.OpenAsync(client, directory, options, Ct);

        var tokens = await Task.WhenAll(Prompts.Select(prompt => runner.GenerateAsync(prompt, new LlamaGeneration(NewTokens), Ct)));

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
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct);

        var request = runner.Start(Prompts[0], new LlamaGeneration(NewTokens) { StopTokens = [expected[3]] }, Ct);
        var streamed = new List<int>();
        await foreach (var token in request.Tokens.ReadAllAsync(Ct))
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
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct);
        var sampling = new LlamaGeneration(NewTokens) { Temperature = 1.5f, TopK = 40, TopP = 0.95f, Seed = 1234 };

        var first = await runner.GenerateAsync(Prompts[0], sampling, Ct);
        var again = await runner.GenerateAsync(Prompts[0], sampling, Ct);
        var greedy = await runner.GenerateAsync(Prompts[0], new LlamaGeneration(NewTokens), Ct);

        Assert.Equal(first, again);
        Assert.All(first, token => Assert.InRange(token, 0, 255));
        Assert.NotEqual(greedy, first);
    }

    [Fact]
    public async Task A_bad_prompt_or_directory_is_refused_with_the_reason()
    {
        var directory = Model(LlamaShapes.Tiny, seed: 1);
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct);

        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => runner.Start([3, 256], new LlamaGeneration(1), Ct)).Message);
        Assert.Contains("token id -1", Assert.Throws<ArgumentException>(() => runner.Start([3, -1], new LlamaGeneration(1), Ct)).Message);
        Assert.Contains("positions", Assert.Throws<ArgumentException>(() => runner.Start([3], new LlamaGeneration(600), Ct)).Message);

        File.Delete(Path.Combine(directory, "model.safetensors"));
        var missing = await Assert.ThrowsAsync<InvalidDataException>(() => LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct));
        Assert.Contains("model.safetensors", missing.Message);

        // The runner's requests still decode after the refusals.
        Assert.Equal(NewTokens, (await runner.GenerateAsync(Prompts[1], new LlamaGeneration(NewTokens), Ct)).Length);
    }

    [Fact]
    public async Task A_cancelled_request_ends_alone_and_the_others_decode_on()
    {
        var directory = Model(LlamaShapes.Tiny, seed: 13);
        await using var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct);
        using var cancel = new CancellationTokenSource();

        var doomed = runner.Start(Prompts[2], new LlamaGeneration(400), cancel.Token);
        var kept = runner.Start(Prompts[0], new LlamaGeneration(NewTokens), Ct);
        await doomed.Tokens.ReadAsync(Ct);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => doomed.Completion);
        Assert.Equal(new LlamaReference(LlamaWeights.Load(directory)).GreedyDecode(Prompts[0], NewTokens), await kept.Completion);
    }

    [Fact]
    public async Task Requests_whose_caches_together_pass_the_device_run_in_smaller_passes()
    {
        // Three pages: the weights, the runner's scratch and one request's cache. A pass of both
        // requests cannot fit; passes of one can, with the other's cache spilled meanwhile.
        await using var small = await TestDaemon.StartAsync($"--Memory:DevicePoolBytes={3 * (2 << 20)}");
        var directory = Model(LlamaShapes.Tiny, seed: 19);
        await using var client = await small.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct);

        var tokens = await Task.WhenAll(runner.GenerateAsync(Prompts[0], new LlamaGeneration(NewTokens), Ct), runner.GenerateAsync(Prompts[2], new LlamaGeneration(NewTokens), Ct));

        var reference = new LlamaReference(LlamaWeights.Load(directory));
        Assert.Equal(reference.GreedyDecode(Prompts[0], NewTokens), tokens[0]);
        Assert.Equal(reference.GreedyDecode(Prompts[2], NewTokens), tokens[1]);
    }

    [Theory]
    [InlineData("huge header length", "a safetensors header of")]
    [InlineData("truncated", "shorter than a safetensors header")]
    [InlineData("tensor without a dtype", "lacks a dtype")]
    [InlineData("header not an object", "not a JSON object")]
    [InlineData("header not JSON", "not JSON")]
    [InlineData("offsets past the file", "lies at [0, 4096)")]
    [InlineData("negative offset", "lies at [-8, 2)")]
    public void A_malformed_weights_file_is_refused_with_the_reason_before_anything_reaches_the_daemon(string damage, string named)
    {
        var directory = Model(LlamaShapes.Tiny, seed: 23);
        var path = Path.Combine(directory, "model.safetensors");
        byte[] Framed(string header) => [.. BitConverter.GetBytes((ulong)header.Length), .. System.Text.Encoding.UTF8.GetBytes(header)];
        File.WriteAllBytes(path, damage switch
        {
            "huge header length" => [.. BitConverter.GetBytes(ulong.MaxValue), .. new byte[64]],
            "truncated" => [1, 2, 3, 4],
            "tensor without a dtype" => Framed("{\"model.embed_tokens.weight\":{\"shape\":[1],\"data_offsets\":[0,2]}}"),
            "header not JSON" => Framed("{\"model.embed"),
            "offsets past the file" => [.. Framed("{\"model.embed_tokens.weight\":{\"dtype\":\"F16\",\"shape\":[2048],\"data_offsets\":[0,4096]}}"), 0, 0],
            "negative offset" => [.. Framed("{\"model.embed_tokens.weight\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[-8,2]}}"), 0, 0],
            _ => Framed("[1, 2, 3]"),
        });

        Assert.Contains(named, Assert.Throws<InvalidDataException>(() => LlamaCheckpoint.Open(directory)).Message);
    }

    [Fact]
    public async Task A_lost_daemon_fails_every_request_under_way_and_the_runner_refuses_more()
    {
        var directory = Model(LlamaShapes.Tiny, seed: 17);
        var client = await _daemon.ConnectAsync();
        await using var runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: Ct);
        var running = runner.Start(Prompts[2], new LlamaGeneration(400), Ct);
        await running.Tokens.ReadAsync(Ct);

        await _daemon.StopAsync();

        // The wait is bounded only so that a hang fails the test rather than stalling the run.
        await Assert.ThrowsAnyAsync<Exception>(() => running.Completion.WaitAsync(TimeSpan.FromMinutes(2), Ct));
        Assert.False(running.Completion.IsCanceled);
        Assert.Throws<InvalidOperationException>(() => runner.Start(Prompts[0], new LlamaGeneration(1), Ct));
        await client.DisposeAsync();
    }

    [Theory]
    [InlineData("\"rope_scaling\": {\"type\": \"llama3\", \"factor\": 8.0}", "rope_scaling")]
    [InlineData("\"attention_bias\": true", "attention_bias")]
    [InlineData("\"hidden_size\": \"wide\"", "\"hidden_size\" is missing or not a number")]
    [InlineData("\"rms_norm_eps\": \"small\"", "not a model config")]
    public void A_config_asking_for_what_the_kernels_do_not_compute_is_refused(string field, string named)
    {
        var directory = Model(LlamaShapes.Tiny, seed: 1);
        var path = Path.Combine(directory, "config.json");
        var json = File.ReadAllText(path);
        var key = field[..(field.IndexOf(':', StringComparison.Ordinal) + 1)];
        json = json.Contains(key, StringComparison.Ordinal)
            ? System.Text.RegularExpressions.Regex.Replace(json, System.Text.RegularExpressions.Regex.Escape(key) + "[^,\n]*", field.Replace("$", "$$", StringComparison.Ordinal))
            : json.Replace("{", "{" + field + ",", StringComparison.Ordinal);
        File.WriteAllText(path, json);

        Assert.Contains(named, Assert.Throws<InvalidDataException>(() => LlamaCheckpoint.Open(directory)).Message);
    }

    private string Model(LlamaConfig config, ulong seed, int shards = 1)
    {
        var directory = Path.Combine(_models.FullName, $"{config.DType}-{config.TieWordEmbeddings}-{config.QkvBias}-{seed}-{shards}");
        LlamaCheckpointWriter.Write(config, seed, directory, shards);
        return directory;
    }
}
