namespace GpuMux.Cli.Generate;

/// <summary>Shows generated tokens as they arrive, each flushed so that a reader sees it at once.</summary>
internal abstract class TokenPrinter(TextWriter output)
{
    protected TextWriter Output { get; } = output;

    public abstract void Write(int token);

    /// <summary>Writes what was held back and ends the line.</summary>
    public virtual void Finish()
    {
        Output.WriteLine();
        Output.Flush();
    }
}

/// <summary>Token ids, separated by spaces, for a model without a tokenizer.</summary>
internal sealed class IdTokenPrinter(TextWriter output) : TokenPrinter(output)
{
    private bool _first = true;

    public override void Write(int token)
    {
        Output.Write(_first ? $"{token}" : $" {token}");
        Output.Flush();
        _first = false;
    }
}

/// <summary>
/// Text: each token's ids are decoded with all before them, since a token alone may be part of a character (a byte
/// of UTF-8) or lose a space that the tokenizer drops only at the start; what ends in an unfinished character
/// (U+FFFD) is held back until the character is complete or the generation ends.
/// </summary>
internal sealed class TextTokenPrinter(ModelText text, TextWriter output) : TokenPrinter(output)
{
    private readonly List<int> _tokens = [];
    private string _written = "";

    public override void Write(int token)
    {
        _tokens.Add(token);
        WriteNew(text.Decode(_tokens).TrimEnd('\uFFFD'));
    }

    public override void Finish()
    {
        WriteNew(text.Decode(_tokens));
        base.Finish();
    }

    private void WriteNew(string decoded)
    {
        // A later token never changes the text before an unfinished character; should a tokenizer do so, the
        // text already shown stands and the rest follows once the decoding agrees with it again.
        if (decoded.Length > _written.Length && decoded.StartsWith(_written, StringComparison.Ordinal))
        {
            Output.Write(decoded.AsSpan(_written.Length));
            Output.Flush();
            _written = decoded;
        }
    }
}
