using Microsoft.ML.Tokenizers;

namespace GpuMux.Cli.Generate;

/// <summary>
/// Finds a model directory's tokenizer as Hugging Face lays it out: a SentencePiece <c>tokenizer.model</c> (Llama 2,
/// Mistral, TinyLlama), else a <c>tokenizer.json</c> (Llama 3, Qwen2); a model with neither speaks token ids.
/// </summary>
internal static class TokenizerFiles
{
    public const string SentencePieceFile = "tokenizer.model";

    /// <returns>The tokenizer, or null where the directory has none.</returns>
    /// <exception cref="ModelFileException">The file is there but is not a tokenizer this reader supports.</exception>
    public static ModelText? Load(string directory)
    {
        // A repository that ships both has them agree; the SentencePiece model is read by the library as it is,
        // where a SentencePiece-style tokenizer.json (byte fallback, "▁" for spaces) is not.
        var sentencePiece = Path.Combine(directory, SentencePieceFile);
        if (File.Exists(sentencePiece))
        {
            return Read(sentencePiece, stream => new ModelText(LlamaTokenizer.Create(stream, addBeginOfSentence: true, addEndOfSentence: false), []));
        }

        var json = Path.Combine(directory, HuggingFaceTokenizerJson.FileName);
        return File.Exists(json) ? Read(json, HuggingFaceTokenizerJson.Read) : null;
    }

    private static ModelText Read(string path, Func<Stream, ModelText> read)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return read(stream);
        }
        catch (ModelFileException e)
        {
            throw new ModelFileException($"{path}: {e.Message}");
        }
        // The library's readers throw what their parsers meet (protobuf, JSON, argument and format errors), by no
        // one type; whichever it is, the file is not a tokenizer, and the user needs its name and the reason.
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new ModelFileException($"{path} is not a tokenizer this reader understands: {FirstLine(e.Message)}");
        }
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].TrimEnd();
}
