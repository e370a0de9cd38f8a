using Microsoft.ML.Tokenizers;

namespace GpuMux.Cli.Generate;

/// <summary>A model's tokenizer: a prompt's text to token ids, and generated ids back to text.</summary>
/// <param name="prefix">Ids a prompt starts with that the tokenizer does not add itself (a tokenizer.json template's beginning-of-text).</param>
internal sealed class ModelText(Tokenizer tokenizer, IReadOnlyList<int> prefix)
{
    public IReadOnlyList<int> Encode(string text) => [.. prefix, .. tokenizer.EncodeToIds(text)];

    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids);
}
