using System.Text.Json;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Llama.Tests;

public sealed class ByteLevelTokenizerWriterTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(256)]
    [InlineData(1000)]
    [InlineData(32000)]
    public void TheVocabularyHasExactlyTheModelsIdsAndEveryMergeJoinsPiecesThatComeBeforeIt(int vocabSize)
    {
        ByteLevelTokenizerWriter.Write(vocabSize, _temp.Path);

        using var json = JsonDocument.Parse(File.ReadAllBytes(_temp.Sub("tokenizer.json")));
        var model = json.RootElement.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        Assert.Equal("ByteLevel", json.RootElement.GetProperty("pre_tokenizer").GetProperty("type").GetString());
        var vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(entry => entry.Name, entry => entry.Value.GetInt32());
        Assert.Equal(Enumerable.Range(0, vocabSize), vocab.Values.Order());
        var merges = model.GetProperty("merges").EnumerateArray().Select(merge => merge.GetString()!.Split(' ')).ToArray();
        Assert.Equal(vocabSize - 256, merges.Length);
        foreach (var (merge, rank) in merges.Select((merge, rank) => (merge, rank)))
        {
            var mergedId = vocab[merge[0] + merge[1]];
            Assert.Equal(256 + rank, mergedId);
            Assert.True(vocab[merge[0]] < mergedId && vocab[merge[1]] < mergedId);
        }
    }
}
