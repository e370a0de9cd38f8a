using System.Text.Json;

namespace GpuMux.Cli.Generate;

/// <summary>
/// The ids that end a generation: <c>eos_token_id</c>, a token id or a list of them (Llama 3 lists two), from the
/// model's <c>config.json</c> and its <c>generation_config.json</c>, which Hugging Face's generate reads in that order.
/// </summary>
internal static class StopTokens
{
    private static readonly string[] Files = ["config.json", "generation_config.json"];

    /// <exception cref="ModelFileException">A file is there but is not JSON, or its eos_token_id is neither an id nor a list of them.</exception>
    public static IReadOnlyCollection<int> Read(string directory)
    {
        var stops = new SortedSet<int>();
        foreach (var name in Files)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(path));
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("eos_token_id", out var eos))
                {
                    AddIds(eos, stops, path);
                }
            }
            catch (JsonException e)
            {
                throw new ModelFileException($"{path} is not JSON: {e.Message}");
            }
        }

        return stops;
    }

    private static void AddIds(JsonElement eos, SortedSet<int> stops, string path)
    {
        IEnumerable<JsonElement> ids = eos.ValueKind switch
        {
            JsonValueKind.Null => [],
            JsonValueKind.Array => eos.EnumerateArray(),
            _ => [eos],
        };
        foreach (var id in ids)
        {
            if (id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out var value) || value < 0)
            {
                throw new ModelFileException($"{path}: eos_token_id must be a token id or a list of them, not {eos.GetRawText()}");
            }

            stops.Add(value);
        }
    }
}
