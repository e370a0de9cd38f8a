using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace GpuMux.Cli.Generate;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> into Microsoft.ML.Tokenizers, which reads a Unigram one itself
/// (<see cref="SentencePieceTokenizer.CreateFromTokenizerJson"/>) but takes a BPE as its vocabulary, merges and
/// pre-tokenizer: this reads those for a byte-level BPE (GPT-2, Llama 3, Qwen2). Any other kind is refused by name
/// rather than read into a tokenizer that would split text otherwise than the model was trained on.
/// </summary>
internal static class HuggingFaceTokenizerJson
{
    public const string FileName = "tokenizer.json";

    // What a ByteLevel pre-tokenizer with use_regex splits by: GPT-2's pattern.
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public static ModelText Read(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        using var document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        var root = document.RootElement;
        var model = Property(root, "model") ?? throw new ModelFileException("it has no \"model\"");
        var type = String(model, "type") ?? (Property(model, "merges") is null ? null : "BPE");
        switch (type)
        {
            case "Unigram":
                buffer.Position = 0;
                return new ModelText(SentencePieceTokenizer.CreateFromTokenizerJson(buffer, addBeginningOfSentence: true, addEndOfSentence: false), []);
            case "BPE":
                return ReadByteLevelBpe(root, model);
            default:
                throw new ModelFileException($"its model is {type ?? "of no stated type"}; the BPE and Unigram ones are read");
        }
    }

    private static ModelText ReadByteLevelBpe(JsonElement root, JsonElement model)
    {
        if (Property(model, "byte_fallback") is { ValueKind: JsonValueKind.True })
        {
            throw new ModelFileException(
                $"a SentencePiece-style BPE (byte_fallback) is not read from {FileName} by Microsoft.ML.Tokenizers; put the model's {TokenizerFiles.SentencePieceFile} beside it");
        }

        var pattern = PreTokenizerPattern(Property(root, "pre_tokenizer"));
        var specialTokens = AddedTokens(root);
        var options = new BpeOptions(Vocabulary(model))
        {
            Merges = Merges(model),
            ByteLevel = true,
            PreTokenizer = pattern is null ? null : new RegexPreTokenizer(new Regex(pattern), specialTokens),
            Normalizer = Normalizer(Property(root, "normalizer")),
            SpecialTokens = specialTokens,
            UnknownToken = String(model, "unk_token"),
            FuseUnknownTokens = Property(model, "fuse_unk") is { ValueKind: JsonValueKind.True },
            ContinuingSubwordPrefix = String(model, "continuing_subword_prefix"),
            EndOfWordSuffix = String(model, "end_of_word_suffix"),
        };
        return new ModelText(BpeTokenizer.Create(options), TemplatePrefix(Property(root, "post_processor")));
    }

    /// <summary>The pattern text is split by before the merges, or null for none; only a byte-level pre-tokenizer is accepted.</summary>
    private static string? PreTokenizerPattern(JsonElement? preTokenizer)
    {
        var steps = Steps(preTokenizer, "pretokenizers");
        var byteLevel = steps.Where(step => String(step, "type") == "ByteLevel").ToArray();
        if (byteLevel.Length != 1)
        {
            throw new ModelFileException("only a byte-level BPE (one ByteLevel pre-tokenizer, as GPT-2, Llama 3 and Qwen2 have) is read from a BPE tokenizer.json");
        }

        string? pattern = null;
        foreach (var step in steps.Except(byteLevel))
        {
            var type = String(step, "type");
            var regex = Property(step, "pattern") is { } p ? String(p, "Regex") : null;
            var isolated = String(step, "behavior") == "Isolated" && Property(step, "invert") is not { ValueKind: JsonValueKind.True };
            if (type != "Split" || regex is null || !isolated || pattern is not null)
            {
                throw new ModelFileException($"its pre-tokenizer step {type} is not supported: one Split by a regex (isolated) and ByteLevel are");
            }

            pattern = regex;
        }

        return pattern ?? (Property(byteLevel[0], "use_regex") is not { ValueKind: JsonValueKind.False } ? Gpt2Pattern : null);
    }

    private static Normalizer? Normalizer(JsonElement? normalizer)
    {
        var steps = Steps(normalizer, "normalizers");
        var forms = steps.Select(step => String(step, "type") switch
        {
            "NFC" => NormalizationForm.FormC,
            "NFD" => NormalizationForm.FormD,
            "NFKC" => NormalizationForm.FormKC,
            "NFKD" => NormalizationForm.FormKD,
            var other => throw new ModelFileException($"its normalizer {other} is not supported: NFC, NFD, NFKC and NFKD are"),
        }).ToArray();
        return forms.Length switch
        {
            0 => null,
            1 => new UnicodeFormNormalizer(forms[0]),
            _ => throw new ModelFileException("it chains normalizers; one Unicode normal form is supported"),
        };
    }

    /// <summary>A step of the pipeline, or each step of a Sequence; none for null.</summary>
    private static JsonElement[] Steps(JsonElement? element, string sequenceProperty) => element switch
    {
        null => [],
        { } step when String(step, "type") == "Sequence" => Property(step, sequenceProperty) is { ValueKind: JsonValueKind.Array } steps
            ? [.. steps.EnumerateArray()]
            : throw new ModelFileException($"a Sequence without its \"{sequenceProperty}\""),
        { } step => [step],
    };

    private static IEnumerable<KeyValuePair<string, int>> Vocabulary(JsonElement model) =>
        Property(model, "vocab") is { ValueKind: JsonValueKind.Object } vocab
            ? [.. vocab.EnumerateObject().Select(entry => KeyValuePair.Create(entry.Name, entry.Value.GetInt32()))]
            : throw new ModelFileException("its BPE model has no \"vocab\" object");

    /// <summary>The merges as "left right", whether written so or, as newer files do, as [left, right].</summary>
    private static string[] Merges(JsonElement model) =>
        Property(model, "merges") is { ValueKind: JsonValueKind.Array } merges
            ? [.. merges.EnumerateArray().Select(merge => merge.ValueKind switch
            {
                JsonValueKind.String => merge.GetString()!,
                JsonValueKind.Array when merge.GetArrayLength() == 2 => $"{merge[0].GetString()} {merge[1].GetString()}",
                _ => throw new ModelFileException("a merge is neither \"left right\" nor [left, right]"),
            })]
            : throw new ModelFileException("its BPE model has no \"merges\" list");

    private static Dictionary<string, int>? AddedTokens(JsonElement root)
    {
        if (Property(root, "added_tokens") is not { ValueKind: JsonValueKind.Array } added || added.GetArrayLength() == 0)
        {
            return null;
        }

        return added.EnumerateArray().ToDictionary(
            token => String(token, "content") ?? throw new ModelFileException("an added token has no content"),
            token => token.GetProperty("id").GetInt32(),
            StringComparer.Ordinal);
    }

    /// <summary>
    /// The special tokens a TemplateProcessing post-processor puts ahead of a single sequence (Llama 3's
    /// beginning-of-text). Those after it are left off: a prompt is continued, not closed.
    /// </summary>
    private static int[] TemplatePrefix(JsonElement? postProcessor)
    {
        if (postProcessor is not { } processor || String(processor, "type") != "TemplateProcessing"
            || Property(processor, "single") is not { ValueKind: JsonValueKind.Array } single)
        {
            return [];
        }

        var prefix = new List<int>();
        foreach (var piece in single.EnumerateArray())
        {
            if (Property(piece, "SpecialToken") is not { } special)
            {
                break;
            }

            var name = String(special, "id");
            if (name is null || Property(processor, "special_tokens") is not { } tokens || Property(tokens, name) is not { } token
                || Property(token, "ids") is not { ValueKind: JsonValueKind.Array } ids)
            {
                throw new ModelFileException($"its post-processor's template names a special token {name} that it does not define");
            }

            prefix.AddRange(ids.EnumerateArray().Select(id => id.GetInt32()));
        }

        return [.. prefix];
    }

    private static JsonElement? Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? String(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
}
