using System.Text.Json;

namespace GpuMux.Llama.Checkpoints;

/// <summary>
/// Writes a Hugging Face <c>tokenizer.json</c> for a byte-level BPE (GPT-2's layout) that fills a vocabulary of
/// exactly the model's size, so that text round-trips through a generated checkpoint: ids 0-255 are the bytes, and
/// every further id merges a word piece of lowercase letters (after an optional leading space) with one more letter,
/// shortest pieces first, so each merge's parts exist before it.
/// </summary>
/// <remarks>Written by hand with the JSON writer rather than through a tokenizer package, so this library keeps no dependency for it.</remarks>
internal static class ByteLevelTokenizerWriter
{
    public const string FileName = "tokenizer.json";

    public const int MinimumVocabSize = 256;

    private const string Letters = "etaoinshrdlcumwfgypbvkjxqz";

    public static void Write(int vocabSize, string directory)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, MinimumVocabSize);
        var byteChars = ByteChars();
        var vocab = new List<string>(vocabSize);
        vocab.AddRange(byteChars.Select(c => c.ToString()));
        var merges = new List<(string Left, string Right)>(vocabSize - MinimumVocabSize);
        var space = byteChars[' '].ToString();
        IReadOnlyList<string> previous = [space, .. Letters.Select(c => c.ToString())];
        while (vocab.Count < vocabSize)
        {
            var next = new List<string>();
            foreach (var piece in previous)
            {
                foreach (var letter in Letters)
                {
                    if (vocab.Count == vocabSize)
                    {
                        break;
                    }

                    var merged = piece + letter;
                    merges.Add((piece, letter.ToString()));
                    vocab.Add(merged);
                    next.Add(merged);
                }
            }

            previous = next;
        }

        Directory.CreateDirectory(directory);
        using var file = File.Create(Path.Combine(directory, FileName));
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("version", "1.0");
        json.WriteNull("truncation");
        json.WriteNull("padding");
        json.WriteStartArray("added_tokens");
        json.WriteEndArray();
        json.WriteNull("normalizer");
        WriteByteLevel(json, "pre_tokenizer", addPrefixSpace: false);
        WriteByteLevel(json, "post_processor", addPrefixSpace: true);
        WriteByteLevel(json, "decoder", addPrefixSpace: true);
        json.WriteStartObject("model");
        json.WriteString("type", "BPE");
        json.WriteNull("dropout");
        json.WriteNull("unk_token");
        json.WriteNull("continuing_subword_prefix");
        json.WriteNull("end_of_word_suffix");
        json.WriteBoolean("fuse_unk", false);
        json.WriteBoolean("byte_fallback", false);
        json.WriteStartObject("vocab");
        for (var id = 0; id < vocab.Count; id++)
        {
            json.WriteNumber(vocab[id], id);
        }

        json.WriteEndObject();
        json.WriteStartArray("merges");
        foreach (var (left, right) in merges)
        {
            json.WriteStringValue($"{left} {right}");
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// GPT-2's bytes_to_unicode: a byte that is a printable Latin-1 character stands for itself, every other byte for
    /// the next code point from U+0100 on, so that no token string holds a space or a control character.
    /// </summary>
    private static char[] ByteChars()
    {
        var chars = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            chars[b] = (char)(printable ? b : next++);
        }

        return chars;
    }

    private static void WriteByteLevel(Utf8JsonWriter json, string name, bool addPrefixSpace)
    {
        json.WriteStartObject(name);
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", addPrefixSpace);
        json.WriteBoolean("trim_offsets", true);
        json.WriteBoolean("use_regex", true);
        json.WriteEndObject();
    }
}
