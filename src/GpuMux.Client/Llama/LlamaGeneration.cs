namespace GpuMux.Client.Llama;

/// <summary>How a request picks its tokens, and when it stops.</summary>
/// <param name="MaxNewTokens">The most tokens to generate after the prompt.</param>
public sealed record LlamaGeneration(int MaxNewTokens)
{
    /// <summary>0 for greedy decoding (the most likely token, the lowest id among equals); above 0, the logits are divided by it and a token drawn.</summary>
    public float Temperature { get; init; }

    /// <summary>Draw among at most this many of the most likely tokens (0, or above 64: 64, the kernel's most).</summary>
    public int TopK { get; init; }

    /// <summary>Draw among the fewest most likely tokens whose probabilities reach this sum.</summary>
    public float TopP { get; init; } = 1;

    /// <summary>Seeds the draws: the same seed, prompt and model give the same tokens.</summary>
    public ulong Seed { get; init; }

    /// <summary>Tokens that end the request once generated (they are delivered), such as the tokenizer's end of sequence.</summary>
    public IReadOnlyCollection<int> StopTokens { get; init; } = [];

    internal bool IsGreedy => Temperature <= 0;
}
