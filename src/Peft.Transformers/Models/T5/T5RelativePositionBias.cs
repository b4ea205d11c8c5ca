using Peft.Tensors;

namespace Peft.Transformers.Models.T5;

// Shapes: T queries, K keys, H heads.

/// <summary>
/// T5's learned relative position bias: each (query, key) distance falls into one of
/// <c>relative_attention_num_buckets</c> buckets (exact for short distances, logarithmic up to
/// <c>max_distance</c>; signed for the encoder, causal for the decoder) whose per-head value is
/// added to the attention scores. Computed once per stack and shared by its layers, as HF does.
/// </summary>
internal sealed class T5RelativePositionBias
{
    private readonly Tensor _table; // [buckets, heads]
    private readonly bool _bidirectional;
    private readonly int _buckets, _maxDistance;

    public T5RelativePositionBias(Tensor table, bool bidirectional, int buckets, int maxDistance)
    {
        _table = table;
        _bidirectional = bidirectional;
        _buckets = buckets;
        _maxDistance = maxDistance;
    }

    /// <summary>The bias [1, heads, queries, keys] for queries at positions offset, offset+1, … and keys at 0, 1, ….</summary>
    public Tensor Compute(int queries, int keys, int queryOffset)
    {
        var buckets = IntTensor.Zeros(new Shape(queries, keys)); // [T, K]
        var s = buckets.Span;
        for (int i = 0; i < queries; i++)
            for (int j = 0; j < keys; j++)
                s[i * keys + j] = Bucket(j - (queryOffset + i), _bidirectional, _buckets, _maxDistance);
        var values = Ops.Embedding(buckets, _table); // [q, k, heads]
        var perHead = Ops.Permute(values, 2, 0, 1); // [H, T, K]
        return Ops.Reshape(perHead, 1, _table.Shape[1], queries, keys); // [1, H, T, K]
    }

    /// <summary>HF's <c>_relative_position_bucket</c>, with its float32 logarithm and truncation.</summary>
    internal static int Bucket(int relativePosition, bool bidirectional, int numBuckets, int maxDistance)
    {
        int bucket = 0;
        int n;
        if (bidirectional)
        {
            numBuckets /= 2;
            if (relativePosition > 0) bucket += numBuckets;
            n = Math.Abs(relativePosition);
        }
        else n = -Math.Min(relativePosition, 0);
        int maxExact = numBuckets / 2;
        if (n < maxExact) return bucket + n;
        float scaled = MathF.Log(n / (float)maxExact) / (float)Math.Log(maxDistance / (double)maxExact) * (numBuckets - maxExact);
        int large = maxExact + (int)scaled;
        return bucket + Math.Min(large, numBuckets - 1);
    }
}
