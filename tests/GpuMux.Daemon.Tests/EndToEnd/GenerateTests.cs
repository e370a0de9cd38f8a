using GpuMux.Cli;
using GpuMux.Cli.Commands;
using GpuMux.Cli.Generate;
using GpuMux.Daemon.Tests.Cli;
using GpuMux.Llama.Checkpoints;
using GpuMux.Llama.Reference;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>gpumuxctl generate against a Sim daemon: what it prints is the CPU reference's greedy decoding of the prompt.</summary>
public sealed class GenerateTests : IDisposable
{
    private const int NewTokens = 12;

    private readonly DirectoryInfo _model = Directory.CreateTempSubdirectory("gmx-model-");

    public void Dispose() => _model.Delete(recursive: true);

    [Fact]
    public async Task Without_a_tokenizer_the_ids_printed_are_the_references_greedy_tokens()
    {
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 3, _model.FullName);
        int[] prompt = [1, 42, 7, 200];

        var printed = await GenerateAsync(string.Join(' ', prompt));

        var expected = new LlamaReference(LlamaWeights.Load(_model.FullName)).GreedyDecode(prompt, NewTokens);
        Assert.Equal(string.Join(' ', expected), printed.TrimEnd('\n'));
    }

    [Fact]
    public async Task With_a_tokenizer_the_text_printed_is_the_references_greedy_tokens_decoded()
    {
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 4, _model.FullName);
        ByteLevelTokenizerWriter.Write(LlamaShapes.Tiny.VocabSize, _model.FullName);
        const string prompt = "Once upon a time";

        var printed = await GenerateAsync(prompt);

        var text = TokenizerFiles.Load(_model.FullName)!;
        var expected = new LlamaReference(LlamaWeights.Load(_model.FullName)).GreedyDecode(text.Encode(prompt), NewTokens);
        Assert.Equal(text.Decode(expected), printed[..^Environment.NewLine.Length]);
    }

    [Fact]
    public async Task A_prompt_outside_the_vocabulary_is_a_usage_error_from_the_runner()
    {
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 3, _model.FullName);
        await using var daemon = await TestDaemon.StartAsync();
        var terminal = new CapturedTerminal(width: 1000);

        var exitCode = await GpuMuxCtl.RunAsync(
            ["generate", "--host", daemon.SocketPath, "--model", _model.FullName, "--prompt", $"1 {LlamaShapes.Tiny.VocabSize}"],
            terminal.Terminal,
            TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal($"gpumuxctl: --prompt: token id {LlamaShapes.Tiny.VocabSize} is outside the vocabulary of {LlamaShapes.Tiny.VocabSize}.", terminal.Error.TrimEnd());
    }

    private async Task<string> GenerateAsync(string prompt)
    {
        await using var daemon = await TestDaemon.StartAsync();
        var terminal = new CapturedTerminal(width: 1000);

        var exitCode = await GpuMuxCtl.RunAsync(
            ["generate", "--host", daemon.SocketPath, "--model", _model.FullName, "--prompt", prompt, "--max-tokens", $"{NewTokens}"],
            terminal.Terminal,
            TestContext.Current.CancellationToken);

        Assert.True(exitCode == ExitCodes.Ok, terminal.Error);
        return terminal.Out;
    }
}
