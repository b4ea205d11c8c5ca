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
        if (!_options.DoSample) return FirstMaximum.IndexOf(logits);
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
}
