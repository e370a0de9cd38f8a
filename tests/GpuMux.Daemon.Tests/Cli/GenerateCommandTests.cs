using GpuMux.Cli;
using GpuMux.Cli.Commands;
using GpuMux.Cli.Generate;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Daemon.Tests.Cli;

/// <summary>gpumuxctl generate before it reaches the daemon: the model's tokenizer and stop tokens, and every bad argument.</summary>
public sealed class GenerateCommandTests : IDisposable
{
    private readonly DirectoryInfo _model = Directory.CreateTempSubdirectory("gmx-model-");

    // No daemon answers here: each case below must stop before it connects.
    private readonly string _noDaemon = Path.Combine(Path.GetTempPath(), $"gmx-none-{Guid.NewGuid():N}.sock");

    public void Dispose() => _model.Delete(recursive: true);

    [Theory]
    [InlineData(256)]
    [InlineData(4000)]
    public void A_prompt_round_trips_through_the_generated_tokenizer_within_the_models_vocabulary(int vocabSize)
    {
        ByteLevelTokenizerWriter.Write(vocabSize, _model.FullName);
        const string prompt = "the quick brown fox, 42 times: ü 日本\n  and then some";

        var text = TokenizerFiles.Load(_model.FullName);

        Assert.NotNull(text);
        var ids = text.Encode(prompt);
        Assert.All(ids, id => Assert.InRange(id, 0, vocabSize - 1));
        Assert.Equal(prompt, text.Decode(ids));
        // The merges are read, not only the bytes: words take fewer tokens than their bytes.
        Assert.Equal(vocabSize > 256, ids.Count < System.Text.Encoding.UTF8.GetByteCount(prompt));
    }

    [Fact]
    public void A_unigram_tokenizer_json_is_read_by_the_library_itself()
    {
        File.WriteAllText(Path.Combine(_model.FullName, "tokenizer.json"), """
            {
              "added_tokens": [{ "id": 0, "content": "<unk>", "special": true }],
              "pre_tokenizer": { "type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true },
              "model": { "type": "Unigram", "unk_id": 0, "byte_fallback": false,
                         "vocab": [["<unk>", 0], ["▁", -2], ["a", -3], ["b", -3], ["▁ab", -1], ["ba", -2]] }
            }
            """);

        var text = TokenizerFiles.Load(_model.FullName)!;

        var ids = text.Encode("ab ba");
        Assert.Equal([4, 1, 5], ids);
        Assert.Equal("ab ba", text.Decode(ids));
    }

    [Fact]
    public void Text_is_printed_whole_characters_at_a_time_when_a_character_spans_tokens()
    {
        ByteLevelTokenizerWriter.Write(256, _model.FullName);
        var text = TokenizerFiles.Load(_model.FullName)!;
        var output = new StringWriter();
        var printer = new TextTokenPrinter(text, output);
        var shown = new List<string>();

        foreach (var id in text.Encode("aü"))
        {
            printer.Write(id);
            shown.Add(output.ToString());
        }

        printer.Finish();
        // "ü" is two bytes, two tokens: nothing of it shows until both have come.
        Assert.Equal(["a", "a", "aü"], shown);
        Assert.Equal("aü" + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void A_model_without_a_tokenizer_has_none()
    {
        Assert.Null(TokenizerFiles.Load(_model.FullName));
    }

    [Fact]
    public void The_stop_tokens_are_the_eos_ids_of_config_json_and_generation_config_json()
    {
        File.WriteAllText(Path.Combine(_model.FullName, "config.json"), """{ "vocab_size": 300, "eos_token_id": 2 }""");
        File.WriteAllText(Path.Combine(_model.FullName, "generation_config.json"), """{ "eos_token_id": [7, 2, 9] }""");

        Assert.Equal([2, 7, 9], StopTokens.Read(_model.FullName));
    }

    public static TheoryData<string, string, string> BadTokenizerFiles => new()
    {
        { "tokenizer.json", "{ \"model\": { \"type\": \"BPE\", \"vocab\": ", "tokenizer.json is not a tokenizer" },
        { "tokenizer.json", """{ "model": { "type": "WordPiece", "vocab": {} } }""", "WordPiece" },
        { "tokenizer.json", """{ "pre_tokenizer": null, "model": { "type": "BPE", "byte_fallback": true, "vocab": {}, "merges": [] } }""", "tokenizer.model beside it" },
        { "tokenizer.json", """{ "pre_tokenizer": { "type": "Whitespace" }, "model": { "type": "BPE", "vocab": {}, "merges": [] } }""", "byte-level" },
        { "tokenizer.model", "not a SentencePiece model at all", "tokenizer.model is not a tokenizer" },
        { "config.json", """{ "eos_token_id": "</s>" }""", "eos_token_id must be a token id" },
    };

    [Theory]
    [MemberData(nameof(BadTokenizerFiles))]
    public async Task A_malformed_or_unsupported_model_file_is_one_line_naming_it(string file, string content, string expected)
    {
        File.WriteAllText(Path.Combine(_model.FullName, file), content);
        var terminal = new CapturedTerminal(width: 1000);

        var exitCode = await GpuMuxCtl.RunAsync(
            ["generate", "--host", _noDaemon, "--model", _model.FullName, "--prompt", "hello"], terminal.Terminal, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.BadModelFile, exitCode);
        Assert.Contains(expected, terminal.Error, StringComparison.Ordinal);
        Assert.Single(terminal.Error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", terminal.Error + terminal.Out);
    }

    [Theory]
    [InlineData("Option '--model' is required", "--prompt", "1 2")]
    [InlineData("Option '--prompt' is required", "--model", "MODEL")]
    [InlineData("for --max-tokens", "--model", "MODEL", "--prompt", "1", "--max-tokens", "0")]
    [InlineData("for --temperature", "--model", "MODEL", "--prompt", "1", "--temperature", "-0.5")]
    [InlineData("for --temperature", "--model", "MODEL", "--prompt", "1", "--temperature", "warm")]
    [InlineData("for --top-k", "--model", "MODEL", "--prompt", "1", "--top-k", "-1")]
    [InlineData("for --top-p", "--model", "MODEL", "--prompt", "1", "--top-p", "0")]
    [InlineData("for --top-p", "--model", "MODEL", "--prompt", "1", "--top-p", "1.5")]
    [InlineData("for --seed", "--model", "MODEL", "--prompt", "1", "--seed", "-3")]
    [InlineData("no such directory", "--model", "MODEL/missing", "--prompt", "1")]
    [InlineData("'hello' is not a token id", "--model", "MODEL", "--prompt", "1 hello 7")]
    [InlineData("the prompt is empty", "--model", "MODEL", "--prompt", " ")]
    public async Task A_bad_argument_is_a_usage_error_that_says_which(string expected, params string[] args)
    {
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 1, _model.FullName);
        var terminal = new CapturedTerminal(width: 1000);

        var exitCode = await GpuMuxCtl.RunAsync(
            ["generate", "--host", _noDaemon, .. args.Select(arg => arg.Replace("MODEL", _model.FullName, StringComparison.Ordinal))],
            terminal.Terminal,
            TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(expected, terminal.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", terminal.Error + terminal.Out);
    }

    [Fact]
    public async Task The_help_says_that_a_model_without_a_tokenizer_takes_token_ids()
    {
        var terminal = new CapturedTerminal(width: 1000);

        Assert.Equal(ExitCodes.Ok, await GpuMuxCtl.RunAsync(["generate", "--help"], terminal.Terminal, TestContext.Current.CancellationToken));
        Assert.Contains("token ids separated by spaces, such as \"1 42 7\"", terminal.Out, StringComparison.Ordinal);
    }
}
