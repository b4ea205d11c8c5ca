namespace Peft.Llama.Benchmarks;

/// <summary>How far llama.cpp's output is from ours, written for the check lines and the table's last column.</summary>
internal static class Agreement
{
    /// <summary>Logits of the same rows: max |Δ|, that relative to the largest |logit|, and whether each row's argmax is the same.</summary>
    public static (double MaxAbs, double Relative, string Text) Logits(float[] ours, float[] llama, int vocab)
    {
        double max = 0, scale = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            max = Math.Max(max, Math.Abs(ours[i] - llama[i]));
            scale = Math.Max(scale, Math.Abs(ours[i]));
        }
        int rows = ours.Length / vocab, same = 0;
        for (int r = 0; r < rows; r++)
            if (LlamaGpt2.ArgMax(ours.AsSpan(r * vocab, vocab)) == LlamaGpt2.ArgMax(llama.AsSpan(r * vocab, vocab))) same++;
        return (max, max / scale, $"argmax {same}/{rows} rows equal, max |Δ| {max:G3} = {max / scale:G3} of max |logit| {scale:G3}");
    }

    /// <summary>Generated ids: identical, or the first position (0-based new token) where a row differs.</summary>
    public static string Ids(int[][] ours, int[][] llama)
    {
        int identical = 0, first = int.MaxValue, firstRow = -1;
        for (int b = 0; b < ours.Length; b++)
        {
            int at = Enumerable.Range(0, ours[b].Length).FirstOrDefault(t => ours[b][t] != llama[b][t], -1);
            if (at < 0) identical++;
            else if (at < first) (first, firstRow) = (at, b);
        }
        return identical == ours.Length
            ? $"ids identical ({ours.Length}×{ours[0].Length})"
            : $"{identical}/{ours.Length} rows identical; first divergence at new token {first} (row {firstRow})";
    }

    /// <summary>The gap between the best and second-best logit of a row: how firmly greedy picks its token.</summary>
    public static float TopGap(ReadOnlySpan<float> row)
    {
        float best = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (float v in row)
        {
            if (v > best) (best, second) = (v, best);
            else if (v > second) second = v;
        }
        return best - second;
    }
}
