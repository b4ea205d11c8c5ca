using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;

namespace Peft.Tensors.Tests;

/// <summary>
/// The input gradient through a frozen quantized (or 16-bit) weight against a double-precision reference on its
/// dequantized values: dx += dy·W, accumulated into what dx held, within float32 summation error (2e-5 of the sum of
/// magnitudes, plus 1e-6). The law every format's kernels share.
/// </summary>
internal static class QuantizedInputGradientCheck
{
    /// <summary>Checks <paramref name="q"/> [n, k] at each row count in <paramref name="rowCounts"/>; fails naming the first wrong element.</summary>
    public static void Run(QuantizedMatrix q, IEnumerable<int> rowCounts, Random rng, string what)
    {
        int n = q.Rows, k = q.Columns;
        var wd = q.Dequantize().ToArray();
        foreach (int m in rowCounts)
        {
            var dy = GemmTests.RandomArray(rng, m * n);
            var dx = GemmTests.RandomArray(rng, m * k);
            var before = (float[])dx.Clone();
            QuantizedGemm.MultiplyAccumulate(m, dy, q, dx);
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++)
                {
                    double sum = before[i * k + p], magnitude = Math.Abs(sum);
                    for (int j = 0; j < n; j++)
                    {
                        sum += (double)dy[i * n + j] * wd[j * k + p];
                        magnitude += Math.Abs((double)dy[i * n + j] * wd[j * k + p]);
                    }
                    // Checked before a message is built: this runs for every element.
                    if (!(Math.Abs(sum - dx[i * k + p]) <= 2e-5 * magnitude + 1e-6))
                        Assert.Fail($"{what} M={m} N={n} K={k} dx[{i},{p}]: expected {sum:G7} got {dx[i * k + p]:G7}");
                }
        }
    }
}
