using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GpuMux.Cli.Generate;
using GpuMux.Cli.Output;
using GpuMux.Cli.Status;
using GpuMux.Client;
using GpuMux.Client.Llama;

namespace GpuMux.Cli.Commands;

/// <summary>
/// <c>gpumuxctl generate</c>: runs a Llama-format model directory through the daemon and prints what it generates as
/// each token arrives, as text where the directory has a tokenizer and as token ids where it has none.
/// </summary>
internal sealed class GenerateCommand : Command
{
    private const string ClientName = "gpumuxctl generate";

    private readonly Terminal _terminal;

    private readonly Option<string?> _host = HostOption.Create();

    private readonly Option<string> _model = new("--model")
    {
        Description = "The model directory, in the Hugging Face layout: config.json, *.safetensors, and tokenizer.model or tokenizer.json if it has a tokenizer.",
        HelpName = "dir",
        Required = true,
    };

    private readonly Option<string> _prompt = new("--prompt")
    {
        Description = "The text to continue; for a model without a tokenizer, token ids separated by spaces, such as \"1 42 7\".",
        HelpName = "text",
        Required = true,
    };

    private readonly Option<int> _maxTokens = CountOption.Create("--max-tokens", "The most tokens to generate; fewer where the model ends its text (its eos_token_id).", 64);

    private readonly Option<float> _temperature = NumberOption.Create(
        "--temperature", "0 picks the likeliest token each time (greedy); higher samples more freely.", 0f, NumberStyles.Float,
        value => value >= 0 && float.IsFinite(value), "a number, 0 or more", "t");

    private readonly Option<int> _topK = NumberOption.Create(
        "--top-k", "Sample from the k likeliest tokens only (at most 64); 0 for the 64 likeliest.", 0, NumberStyles.None, _ => true, "a whole number, 0 or more", "k");

    private readonly Option<float> _topP = NumberOption.Create(
        "--top-p", "Sample from the likeliest tokens whose probabilities add up to p; 1 for all.", 1f, NumberStyles.Float,
        value => value is > 0 and <= 1, "a number above 0, at most 1", "p");

    private readonly Option<ulong> _seed = NumberOption.Create(
        "--seed", "The sampling seed: the same seed and prompt give the same tokens.", 0UL, NumberStyles.None, _ => true, "a whole number, 0 or more", "n");

    public GenerateCommand(Terminal terminal)
        : base("generate", "Generate text with a model through gpumuxd, printing each token as it arrives.")
    {
        _terminal = terminal;
        Add(_host);
        Add(_model);
        Add(_prompt);
        Add(_maxTokens);
        Add(_temperature);
        Add(_topK);
        Add(_topP);
        Add(_seed);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (HostOption.Resolve(parse, _host, _terminal) is not { } socketPath)
        {
            return ExitCodes.Usage;
        }

        var directory = parse.GetRequiredValue(_model);
        if (!Directory.Exists(directory))
        {
            return Fail(ExitCodes.Usage, $"--model: no such directory: {directory}");
        }

        ModelText? text;
        IReadOnlyCollection<int> stops;
        try
        {
            text = TokenizerFiles.Load(directory);
            stops = StopTokens.Read(directory);
        }
        catch (ModelFileException e)
        {
            return Fail(ExitCodes.BadModelFile, e.Message);
        }

        var promptText = parse.GetRequiredValue(_prompt);
        var prompt = text is null ? PromptIds.TryParse(promptText, out var problem) : Encoded(text, promptText, out problem);
        if (prompt is null)
        {
            return Fail(ExitCodes.Usage, $"--prompt: {problem}");
        }

        var generation = new LlamaGeneration(parse.GetValue(_maxTokens))
        {
            Temperature = parse.GetValue(_temperature),
            TopK = parse.GetValue(_topK),
            TopP = parse.GetValue(_topP),
            Seed = parse.GetValue(_seed),
            StopTokens = stops,
        };
        TokenPrinter printer = text is null ? new IdTokenPrinter(_terminal.PlainOut) : new TextTokenPrinter(text, _terminal.PlainOut);
        return await GenerateAsync(socketPath, directory, prompt, generation, printer, cancellationToken);
    }

    private async Task<int> GenerateAsync(
        string socketPath, string directory, IReadOnlyList<int> prompt, LlamaGeneration generation, TokenPrinter printer, CancellationToken cancellationToken)
    {
        try
        {
            var (client, unavailable) = await DaemonConnector.TryConnectAsync(socketPath, ClientName, inspectOnly: false, cancellationToken);
            if (client is null)
            {
                return Fail(ExitCodes.DaemonUnavailable, unavailable!.Message);
            }

            await using (client)
            {
                LlamaRunner runner;
                try
                {
                    runner = await LlamaRunner.OpenAsync(client, directory, cancellationToken: cancellationToken);
                }
                catch (Exception e) when (e is IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
                {
                    return Fail(ExitCodes.BadModelFile, e.Message);
                }

                await using var opened = runner;
                LlamaRequest request;
                try
                {
                    request = runner.Start(prompt, generation, cancellationToken);
                }
                catch (ArgumentException e)
                {
                    // An id outside the vocabulary, or a prompt and --max-tokens past the model's positions; the
                    // message without the " (Parameter 'prompt')" that ArgumentException adds to it.
                    return Fail(ExitCodes.Usage, $"--prompt: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}.");
                }

                await foreach (var token in request.Tokens.ReadAllAsync(cancellationToken))
                {
                    printer.Write(token);
                }

                await request.Completion;
                printer.Finish();
                return ExitCodes.Ok;
            }
        }
        // NotSupportedException: the daemon speaks an older protocol that lacks a request the runner sends.
        catch (Exception e) when (e is GpuMuxException or GpuMuxConnectionException or NotSupportedException)
        {
            return Fail(ExitCodes.DaemonError, e.Message);
        }
    }

    private static IReadOnlyList<int>? Encoded(ModelText text, string prompt, out string problem)
    {
        var ids = text.Encode(prompt);
        problem = ids.Count == 0 ? "the prompt is empty." : "";
        return ids.Count == 0 ? null : ids;
    }

    private int Fail(int exitCode, string message)
    {
        ErrorOutput.Write(_terminal.Error, message);
        return exitCode;
    }
}
