using System.Text;
using Microsoft.ML.Tokenizers;

namespace GpuMux.Cli.Generate;

/// <summary>tokenizer.json's NFC, NFD, NFKC and NFKD normalizers (Qwen2 has NFC), which the library has no type for.</summary>
internal sealed class UnicodeFormNormalizer(NormalizationForm form) : Normalizer
{
    public override string Normalize(string original) => original.Normalize(form);

    public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(form);
}
