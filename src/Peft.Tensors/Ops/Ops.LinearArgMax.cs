using Peft.Tensors.Kernels;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>Slivers of exact logits past which the screen gives up and the whole product is computed (an eighth of a 50k head).</summary>
    private const int MaxScreenedSlivers = 192;

    /// <summary>
    /// Rows up to which the screen runs: it reads a quarter of the head's bytes but does as many multiply-adds as the
    /// float product (and converts the int8 values), so it pays where the product is bound by reading the head (gpt2-small
    /// decoding, Zen 4: batch 1 +19 % tok/s) and lost at batch 8 (−12 %), where the float product is bound by arithmetic.
    /// </summary>
    private const int MaxScreenedRows = 4;

    /// <summary>
    /// The index of the first maximum of each row of <see cref="Linear"/>(x, weight) (no bias), exactly as
    /// <see cref="FirstMaximum.IndexOf"/> over those logits picks it, for greedy decoding. For a frozen weight and up to
    /// four rows on AVX-512 (where the float32 product runs the small-row kernel) the logits are not all computed: an
    /// int8 copy of the weight (<see cref="LogitScreen"/>, a quarter of its bytes, made once) gives every logit an interval
    /// that provably holds the float32 value, and only the 32-column slivers holding a row whose interval reaches the
    /// best lower bound are computed, by the very kernel call the full product makes for them: the same floats, so the
    /// same index. Anything else (more rows, a trainable weight, other CPUs, non-finite values, too many candidates)
    /// computes the full product.
    /// </summary>
    /// <param name="x">[..., in] rows.</param>
    /// <param name="weight">[out, in].</param>
    /// <param name="indices">One index per row of x.</param>
    /// <exception cref="ArgumentException">The shapes do not match, or <paramref name="indices"/> does not hold one entry per row.</exception>
    public static void LinearArgMax(Tensor x, Tensor weight, Span<int> indices)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2 || weight.Shape[0] == 0)
            throw ShapeError("LinearArgMax", $"weight must be 2-D [out, in] with out > 0; got {weight.Shape}.");
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (x.Rank < 1 || x.Shape[-1] != inF)
            throw ShapeError("LinearArgMax", $"input {x.Shape} must end in the weight's in-features {inF} (weight {weight.Shape}).");
        int rows = inF == 0 ? 0 : x.Length / inF;
        if (indices.Length != rows)
            throw new ArgumentException($"LinearArgMax: {rows} rows of input {x.Shape} need {rows} indices; got {indices.Length}.", nameof(indices));
        if (rows == 0) return;
        if (CanScreen(weight, rows) && TryScreenedArgMax(x, weight, rows, indices)) return;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            var logits = Linear(x, weight).Span;
            for (int r = 0; r < rows; r++) indices[r] = FirstMaximum.IndexOf(logits.Slice(r * outF, outF));
        }
    }

    /// <summary>Whether <see cref="LinearArgMax"/> screens this weight at this many rows (else it computes every logit).</summary>
    internal static bool CanScreen(Tensor weight, int rows) =>
        LogitScreen.Supported && Gemm.ActiveIsa == GemmIsa.Avx512 && rows <= MaxScreenedRows && weight.Shape[1] > 0
        && PackedWeightCache.Applies(weight, rows);

    /// <summary>The screened first maxima, or false (nothing to rely on in <paramref name="indices"/>) when the screen cannot decide.</summary>
    internal static unsafe bool TryScreenedArgMax(Tensor x, Tensor weight, int rows, Span<int> indices)
    {
        if (PackedWeightCache.Screen(weight) is not { } screen) return false;
        var packed = PackedWeightCache.Forward(weight);
        if (packed.Isa != GemmIsa.Avx512) return false;
        int outF = weight.Shape[0], inF = weight.Shape[1], kp = screen.Kp;
        var xs = x.Span;
        var padded = LinearArgMaxScratch.Rows((long)rows * kp);
        var approx = LinearArgMaxScratch.Approximations((long)rows * outF);
        Span<double> norms = stackalloc double[rows];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            var row = xs.Slice(r * inF, inF);
            foreach (float v in row)
            {
                if (!float.IsFinite(v)) return false;
                sum += (double)v * v;
            }
            // The double sum is exact to ~k·1e-16 relative; the factor covers it.
            norms[r] = Math.Sqrt(sum) * (1 + 1e-9);
            row.CopyTo(padded.AsSpan(r * kp, inF));
            padded.AsSpan(r * kp + inF, kp - inF).Clear();
        }
        const int width = GemmSmallM.StripWidth;
        int kc = GemmMicroKernel512.KC;
        float* exact = stackalloc float[width];
        var bounds = screen.Bound;
        fixed (float* px = xs, pp = padded, pa = approx)
        {
            screen.ApproximateAll(rows, pp, pa);
            for (int r = 0; r < rows; r++)
            {
                float* a = pa + (long)r * outF;
                double xn = norms[r];
                // The best lower bound: the float32 maximum is at least this, so a row whose upper bound is below it never is.
                double floor = double.NegativeInfinity;
                for (int j = 0; j < outF; j++) floor = Math.Max(floor, a[j] - xn * bounds[j]);
                int best = -1, sliver = -1, slivers = 0;
                float bestValue = 0f;
                for (int j = 0; j < outF; j++)
                {
                    if (a[j] + xn * bounds[j] < floor) continue;
                    if (j / width != sliver)
                    {
                        if (++slivers > MaxScreenedSlivers) return false;
                        sliver = j / width;
                        int start = sliver * width;
                        // What the full product's small-row path computes for this sliver (GemmTask.RunStrips), one row of it.
                        GemmSmallM.Strip(1, inF, px + (long)r * inF, inF, packed.Data + (long)sliver * kc * width, width, kc,
                            (nint)kc * packed.NPad, exact, width, Math.Min(width, outF - start), 1f, 0f);
                    }
                    float value = exact[j - sliver * width];
                    if (float.IsNaN(value)) return false;
                    if (best < 0 || value > bestValue) { best = j; bestValue = value; }
                }
                indices[r] = best;
            }
        }
        return true;
    }
}
