using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Peft.Tensors;

namespace Peft.Transformers.Generation;

/// <summary>
/// Picks the next token from a row of logits as Hugging Face's generate() does: the repetition
/// penalty first, then for sampling temperature, top-k and top-p (in that order) and a draw from
/// the softmax; greedy takes the first maximum, like torch.argmax.
/// </summary>
internal sealed class TokenSelector
{
    private readonly GenerationOptions _options;
    private readonly SeededRandom _random;
    private float[] _scratch = [];
    private int[] _order = [];

    public TokenSelector(GenerationOptions options)
    {
        _options = options;
        _random = new SeededRandom(options.Seed);
    }

    /// <summary>Selects a token; <paramref name="logits"/> may be modified in place.</summary>
    public int Select(Span<float> logits, IReadOnlyList<int> history)
    {
        if (_options.RepetitionPenalty != 1f)
        {
            float penalty = _options.RepetitionPenalty;
            foreach (int id in history.Distinct())
            {
                if ((uint)id >= (uint)logits.Length) continue;
                logits[id] = logits[id] < 0 ? logits[id] * penalty : logits[id] / penalty;
            }
        }
        if (!_options.DoSample) return ArgMax(logits);
        return Sample(logits);
    }

    private int Sample(Span<float> logits)
    {
        int vocab = logits.Length;
        if (_options.Temperature != 1f)
            for (int i = 0; i < vocab; i++) logits[i] /= _options.Temperature;
        if (_order.Length != vocab)
        {
            _order = new int[vocab];
            _scratch = new float[vocab];
        }
        for (int i = 0; i < vocab; i++) _order[i] = i;
        logits.CopyTo(_scratch);
        // Sort ids by descending logit (stable for ties: lower id first).
        Array.Sort(_order, (a, b) => _scratch[b].CompareTo(_scratch[a]) is int c && c != 0 ? c : a.CompareTo(b));
        int keep = vocab;
        if (_options.TopK > 0) keep = Math.Min(keep, _options.TopK);
        var probabilities = new double[keep];
        double max = _scratch[_order[0]], total = 0;
        for (int r = 0; r < keep; r++) total += probabilities[r] = Math.Exp(_scratch[_order[r]] - max);
        if (_options.TopP < 1f)
        {
            // Keep the smallest prefix whose probability mass reaches top_p (at least one token).
            double cumulative = 0;
            int cut = keep;
            for (int r = 0; r < keep; r++)
            {
                cumulative += probabilities[r] / total;
                if (cumulative >= _options.TopP) { cut = r + 1; break; }
            }
            keep = cut;
            total = 0;
            for (int r = 0; r < keep; r++) total += probabilities[r];
        }
        double u = _random.NextFloat() * total;
        for (int r = 0; r < keep; r++)
        {
            u -= probabilities[r];
            if (u < 0) return _order[r];
        }
        return _order[keep - 1];
    }

    /// <summary>
    /// The index of the first maximum, as torch.argmax picks it (a NaN counts as the maximum: the first NaN). Two
    /// vectorized passes, the maximum and then its first position: greedy decoding at batch 8 runs this over eight
    /// 50k-entry rows per step, and the scalar scan with its dependent compare was ~3 % of such a step.
    /// </summary>
    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) throw new ArgumentException("ArgMax of an empty row.", nameof(values));
        float max = TensorPrimitives.Max(values);
        if (float.IsNaN(max)) return FirstNaN(values);
        int i = 0;
        ref float start = ref MemoryMarshal.GetReference(values);
        // Equality as a float comparison: −0 and +0 are one value, so the first of either is the first maximum.
        if (Vector512.IsHardwareAccelerated)
        {
            var target = Vector512.Create(max);
            for (; i + Vector512<float>.Count <= values.Length; i += Vector512<float>.Count)
            {
                ulong hits = Vector512.Equals(Vector512.LoadUnsafe(ref start, (nuint)i), target).ExtractMostSignificantBits();
                if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var target = Vector256.Create(max);
            for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
            {
                uint hits = Vector256.Equals(Vector256.LoadUnsafe(ref start, (nuint)i), target).ExtractMostSignificantBits();
                if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
            }
        }
        for (; i < values.Length; i++)
            if (values[i] == max) return i;
        throw new InvalidOperationException("ArgMax: the maximum was not found again.");
    }

    private static int FirstNaN(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (float.IsNaN(values[i])) return i;
        throw new InvalidOperationException("ArgMax: the maximum was NaN but no value is.");
    }
}
