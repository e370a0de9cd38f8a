using System.Globalization;

namespace GpuMux.Cli.Generate;

/// <summary>A prompt written as token ids ("1 42 7"), for a model without a tokenizer.</summary>
internal static class PromptIds
{
    /// <returns>The ids, or null with <paramref name="problem"/> saying why the text is not a list of them.</returns>
    public static int[]? TryParse(string text, out string problem)
    {
        var words = text.Split([' ', '\t', '\n', ','], StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[words.Length];
        for (var i = 0; i < words.Length; i++)
        {
            if (!int.TryParse(words[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
            {
                problem = $"'{words[i]}' is not a token id: this model has no tokenizer, so the prompt is token ids, such as \"1 42 7\".";
                return null;
            }
        }

        problem = ids.Length == 0 ? "the prompt is empty: give at least one token id." : "";
        return ids.Length == 0 ? null : ids;
    }
}
