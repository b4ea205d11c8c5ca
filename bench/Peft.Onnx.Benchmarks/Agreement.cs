namespace Peft.Onnx.Benchmarks;

/// <summary>How far ORT's output is from ours, written for the table's last column.</summary>
internal static class Agreement
{
    /// <summary>Last-position logits: max |Δ| and whether every row's argmax (its next greedy token) is the same.</summary>
    public static string Logits(float[] ours, float[] ort, int vocab)
    {
        double max = 0;
        for (int i = 0; i < ours.Length; i++) max = Math.Max(max, Math.Abs(ours[i] - ort[i]));
        int rows = ours.Length / vocab, same = 0;
        for (int r = 0; r < rows; r++)
            if (OrtGpt2.ArgMax(ours.AsSpan(r * vocab, vocab)) == OrtGpt2.ArgMax(ort.AsSpan(r * vocab, vocab))) same++;
        return $"argmax {same}/{rows} rows equal, max abs diff of last logits {max:G3}";
    }

    /// <summary>Generated ids: identical, or the first position (0-based new token) where a row differs.</summary>
    public static string Ids(int[][] ours, int[][] ort)
    {
        int identical = 0, first = int.MaxValue, firstRow = -1;
        for (int b = 0; b < ours.Length; b++)
        {
            int at = Enumerable.Range(0, ours[b].Length).FirstOrDefault(t => ours[b][t] != ort[b][t], -1);
            if (at < 0) identical++;
            else if (at < first) (first, firstRow) = (at, b);
        }
        return identical == ours.Length
            ? $"ids identical ({ours.Length}×{ours[0].Length})"
            : $"{identical}/{ours.Length} rows identical; first divergence at new token {first} (row {firstRow})";
    }
}
