using GpuMux.Client.Llama;

namespace GpuMux.Llama.Reference;

/// <summary>
/// The Llama forward pass on the CPU, one position at a time, in f32 throughout: the reference the device kernels and
/// the model runner are checked against, written for clarity rather than speed.
/// </summary>
/// <remarks>
/// Arithmetic, fixed so that results are reproducible bit for bit on one machine:
/// <list type="bullet">
/// <item>Weights are f16 or bf16 widened exactly to f32; every value computed is f32.</item>
/// <item>Dot products (every projection, attention scores, attention's weighted sum of values) accumulate in f32 in
/// index order, one multiply and one add per term; .NET does not contract them into fused multiply-adds.</item>
/// <item>RMSNorm: y = w · (x · 1/√(mean(x²) + eps)), as Hugging Face's LlamaRMSNorm computes it in f32.</item>
/// <item>Qwen2's q, k and v biases, where the model has them, are added to the projections' outputs before the rotary
/// embedding, one rounding each.</item>
/// <item>Rotary embedding in Hugging Face's rotate_half layout: the pairs are (i, i + d/2), with
/// inv_freq(i) = 1 / theta^(2i/d) and angle = position · inv_freq(i), both in f32 as its default rope does.</item>
/// <item>Grouped-query attention: query head h reads key/value head h / (heads / kv_heads), as repeat_kv arranges;
/// scores are scaled by 1/√head_dim, causal, and the softmax subtracts the row's maximum before exp.</item>
/// <item>SwiGLU: down(silu(gate · x) ⊙ (up · x)) with silu(g) = g / (1 + exp(−g)).</item>
/// </list>
/// Each position's arithmetic is the same whether it is fed with its prefix or after it from the cache, so cached
/// decoding equals recomputing the prefix exactly.
/// </remarks>
internal sealed class LlamaReference(LlamaWeights weights)
{
    private readonly LlamaConfig _config = weights.Config;

    public LlamaKvCache NewCache() => new(_config.NumHiddenLayers);

    /// <summary>Feeds <paramref name="tokens"/> at the positions after those in <paramref name="cache"/>; returns each position's logits.</summary>
    public float[][] Forward(IReadOnlyList<int> tokens, LlamaKvCache cache)
    {
        var logits = new float[tokens.Count][];
        for (var i = 0; i < tokens.Count; i++)
        {
            logits[i] = Position(tokens[i], cache);
        }

        return logits;
    }

    /// <summary>Feeds the prompt, then takes the most likely token (the lowest id among equals) <paramref name="count"/> times.</summary>
    public int[] GreedyDecode(IReadOnlyList<int> prompt, int count)
    {
        ArgumentOutOfRangeException.ThrowIfZero(prompt.Count);
        var cache = NewCache();
        var last = Forward(prompt, cache)[^1];
        var generated = new int[count];
        for (var i = 0; i < count; i++)
        {
            generated[i] = ArgMax(last);
            if (i + 1 < count)
            {
                last = Position(generated[i], cache);
            }
        }

        return generated;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private float[] Position(int token, LlamaKvCache cache)
    {
        if ((uint)token >= (uint)_config.VocabSize)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"token ids run from 0 to {_config.VocabSize - 1}");
        }

        var position = cache.Length;
        var hidden = _config.HiddenSize;
        var x = weights.Embedding.AsSpan(token * hidden, hidden).ToArray();
        for (var layer = 0; layer < weights.Layers.Count; layer++)
        {
            var w = weights.Layers[layer];
            var h = RmsNorm(x, w.InputNorm);
            var q = MatVec(w.Q, h);
            var k = MatVec(w.K, h);
            var v = MatVec(w.V, h);
            AddBias(q, w.QBias);
            AddBias(k, w.KBias);
            AddBias(v, w.VBias);
            Rotate(q, position);
            Rotate(k, position);
            cache.Append(layer, k, v);
            AddInPlace(x, MatVec(w.O, Attention(q, cache.Keys(layer), cache.Values(layer))));

            h = RmsNorm(x, w.PostAttentionNorm);
            var gate = MatVec(w.Gate, h);
            var up = MatVec(w.Up, h);
            for (var i = 0; i < gate.Length; i++)
            {
                gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
            }

            AddInPlace(x, MatVec(w.Down, gate));
        }

        return MatVec(weights.LmHead, RmsNorm(x, weights.Norm));
    }

    private float[] RmsNorm(float[] x, float[] weight)
    {
        var sumOfSquares = 0f;
        foreach (var value in x)
        {
            sumOfSquares += value * value;
        }

        var scale = 1f / MathF.Sqrt((sumOfSquares / x.Length) + (float)_config.RmsNormEps);
        var y = new float[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = weight[i] * (x[i] * scale);
        }

        return y;
    }

    /// <summary>W · x for W row-major [rows, x.Length].</summary>
    private static float[] MatVec(float[] matrix, float[] x)
    {
        var y = new float[matrix.Length / x.Length];
        for (var row = 0; row < y.Length; row++)
        {
            y[row] = Dot(matrix.AsSpan(row * x.Length, x.Length), x);
        }

        return y;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Rotates every head of <paramref name="heads"/> in place, pairing element i with i + d/2.</summary>
    private void Rotate(float[] heads, int position)
    {
        var dim = _config.HeadDim;
        var half = dim / 2;
        for (var i = 0; i < half; i++)
        {
            var inverseFrequency = 1f / MathF.Pow((float)_config.RopeTheta, (float)(2 * i) / dim);
            var angle = position * inverseFrequency;
            var (cos, sin) = (MathF.Cos(angle), MathF.Sin(angle));
            for (var head = 0; head < heads.Length; head += dim)
            {
                var (first, second) = (heads[head + i], heads[head + i + half]);
                heads[head + i] = (first * cos) - (second * sin);
                heads[head + i + half] = (second * cos) + (first * sin);
            }
        }
    }

    /// <summary>Causal attention of this position's queries over every cached position, this one included.</summary>
    private float[] Attention(float[] q, IReadOnlyList<float[]> keys, IReadOnlyList<float[]> values)
    {
        var dim = _config.HeadDim;
        var scale = (float)(1 / Math.Sqrt(dim));
        var output = new float[q.Length];
        var scores = new float[keys.Count];
        for (var head = 0; head < _config.NumAttentionHeads; head++)
        {
            var kvOffset = head / _config.QueriesPerKeyValueHead * dim;
            var query = q.AsSpan(head * dim, dim);
            var max = float.NegativeInfinity;
            for (var t = 0; t < keys.Count; t++)
            {
                scores[t] = Dot(query, keys[t].AsSpan(kvOffset, dim)) * scale;
                max = MathF.Max(max, scores[t]);
            }

            var sum = 0f;
            for (var t = 0; t < keys.Count; t++)
            {
                scores[t] = MathF.Exp(scores[t] - max);
                sum += scores[t];
            }

            var result = output.AsSpan(head * dim, dim);
            for (var t = 0; t < keys.Count; t++)
            {
                var p = scores[t] / sum;
                var value = values[t].AsSpan(kvOffset, dim);
                for (var i = 0; i < dim; i++)
                {
                    result[i] += p * value[i];
                }
            }
        }

        return output;
    }

    private static void AddBias(float[] x, float[]? bias)
    {
        if (bias is not null)
        {
            AddInPlace(x, bias);
        }
    }

    private static void AddInPlace(float[] x, float[] delta)
    {
        for (var i = 0; i < x.Length; i++)
        {
            x[i] += delta[i];
        }
    }
}
