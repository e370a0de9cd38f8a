namespace GpuMux.Client.Llama;

/// <summary>One tensor of a checkpoint, as its safetensors header describes it: where its bytes lie in its file's data section.</summary>
/// <param name="Name">The tensor's name, such as <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="DType">The header's dtype, such as <c>F16</c>.</param>
/// <param name="Shape">Its dimensions, outermost first.</param>
/// <param name="File">The index of its file among the checkpoint's safetensors files.</param>
/// <param name="Begin">The offset of its first byte in the data section.</param>
/// <param name="End">The offset just past its last byte.</param>
public sealed record CheckpointTensor(string Name, string DType, IReadOnlyList<long> Shape, int File, long Begin, long End)
{
    /// <summary>The layer a tensor named <c>model.layers.N.…</c> belongs to; -1 for the others (embedding, final norm, LM head).</summary>
    public int Layer
    {
        get
        {
            const string prefix = "model.layers.";
            if (!Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return -1;
            }

            var end = Name.IndexOf('.', prefix.Length);
            return end > prefix.Length && int.TryParse(Name.AsSpan(prefix.Length, end - prefix.Length), out var layer) ? layer : -1;
        }
    }
}
