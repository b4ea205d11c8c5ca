using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Rows up to which the screen runs: every row the full product would run through the small-row kernel. gpt2-small
    /// float32 decoding on Zen 4 against the full head: batch 1 +50 %, 4 +40 %, 8 +16 % tok/s.
    /// </summary>
    private const int MaxScreenedRows = GemmSmallM.MaxRows;

    /// <summary>
    /// Greedy argmaxes over a head before its screen is made. A fresh process pays 40-55 ms to build gpt2-small's and
    /// about as much again to compile the screen's code, which the 2-5 ms it saves per step repay after some 30 steps:
    /// a fresh `peft generate` of 32 tokens ran slower with the screen made on its fifth step (whole run 19.5 against
    /// 21.2 tok/s at batch 1), so short generations keep the full product and a long one (or a process's later ones)
    /// switches on its 33rd step.
    /// </summary>
    private const int ScreenWarmUses = 32;

    /// <summary>
    /// The index of the first maximum of each row of <see cref="Linear"/>(x, weight) (no bias), exactly as
    /// <see cref="FirstMaximum.IndexOf"/> over those logits picks it, for greedy decoding. For a frozen weight and up to
    /// eight rows on AVX-512 (where the float32 product runs the small-row kernel) the logits are not all computed: an
    /// int8 copy of the weight (<see cref="LogitScreen"/>, a quarter of its bytes, made once the weight has served 32
    /// calls; the input rounded to int16) gives every logit an interval that provably holds the float32 value, and only
    /// the 32-column slivers holding a row whose interval reaches the best lower bound are computed, by the very kernel call the full product makes for them: the same floats, so the
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
        if (weight.Rank != 2) throw ShapeError("LinearArgMax", $"weight must be 2-D [out, in]; got {weight.Shape}.");
        int rows = ArgMaxRows("LinearArgMax", x, weight.Shape[0], weight.Shape[1], indices);
        if (rows == 0) return;
        if (CanScreen(weight, rows) && TryScreenedArgMax(x, weight, rows, indices, ScreenWarmUses)) return;
        using (Autograd.NoGrad())
        using (new TensorScope())
            FirstMaximum.IndexOfEachRow(Linear(x, weight).Span, weight.Shape[0], indices);
    }

    /// <summary>
    /// <see cref="LinearArgMax"/> over a quantized weight's logits (<see cref="QuantizedLinear"/>): the same indices. A
    /// 16-bit weight (a 16-bit checkpoint's LM head) is screened for one row on AVX-512 like a float one, its candidates'
    /// logits computed by the 16-bit kernel's own per-row dot product; other formats compute every logit.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not match, or <paramref name="indices"/> does not hold one entry per row.</exception>
    public static void QuantizedLinearArgMax(Tensor x, QuantizedMatrix weight, Span<int> indices)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        int rows = ArgMaxRows("QuantizedLinearArgMax", x, weight.Rows, weight.Columns, indices);
        if (rows == 0) return;
        if (weight is HalfMatrix half && CanScreen(half, rows) && TryScreenedArgMax(x, half, indices, ScreenWarmUses)) return;
        using (Autograd.NoGrad())
        using (new TensorScope())
            FirstMaximum.IndexOfEachRow(QuantizedLinear(x, weight).Span, weight.Rows, indices);
    }

    private static int ArgMaxRows(string op, Tensor x, int outF, int inF, Span<int> indices)
    {
        if (outF == 0) throw ShapeError(op, "the weight has no rows (logits) to pick from.");
        if (x.Rank < 1 || x.Shape[-1] != inF)
            throw ShapeError(op, $"input {x.Shape} must end in the weight's in-features {inF} (weight [{outF}, {inF}]).");
        int rows = inF == 0 ? 0 : x.Length / inF;
        if (indices.Length != rows)
            throw new ArgumentException($"{op}: {rows} rows of input {x.Shape} need {rows} indices; got {indices.Length}.", nameof(indices));
        return rows;
    }

    /// <summary>Whether <see cref="LinearArgMax"/> screens this weight at this many rows (else it computes every logit).</summary>
    internal static bool CanScreen(Tensor weight, int rows) =>
        LogitScreen.Supported && Gemm.ActiveIsa == GemmIsa.Avx512 && rows <= MaxScreenedRows && PackedWeightCache.Applies(weight, rows);

    /// <summary>Whether <see cref="QuantizedLinearArgMax"/> screens this 16-bit weight: one row through its AVX-512 row kernel.</summary>
    internal static bool CanScreen(HalfMatrix weight, int rows) =>
        LogitScreen.Supported && HalfDotKernel.UseAvx512 && rows == 1 && QuantizedGemm.ActiveIsa != QuantizedIsa.DequantizedTiles;

    /// <summary>The screened first maxima, or false (nothing to rely on in <paramref name="indices"/>) when the screen cannot decide.</summary>
    internal static unsafe bool TryScreenedArgMax(Tensor x, Tensor weight, int rows, Span<int> indices, int warmUses = 0)
    {
        if (PackedWeightCache.Screen(weight, warmUses) is not { } screen) return false;
        var packed = PackedWeightCache.Forward(weight);
        if (packed.Isa != GemmIsa.Avx512) return false;
        int inF = weight.Shape[1];
        float* exact = stackalloc float[GemmSmallM.StripWidth];
        fixed (float* px = x.Span)
        {
            var logits = new SliverLogits { Packed = packed, K = inF, Buffer = exact };
            return Screened(screen, px, inF, rows, indices, ref logits);
        }
    }

    /// <summary>The 16-bit weight's screened first maximum of one row, or false when the screen cannot decide.</summary>
    internal static unsafe bool TryScreenedArgMax(Tensor x, HalfMatrix weight, Span<int> indices, int warmUses = 0)
    {
        if (weight.Screen(warmUses) is not { } screen) return false;
        fixed (float* px = x.Span)
        fixed (ushort* bits = weight.BitArray)
        {
            var logits = new HalfRowLogits { W = bits, K = weight.Columns, BFloat16 = weight.Format == QuantizationFormat.BFloat16 };
            return Screened(screen, px, weight.Columns, 1, indices, ref logits);
        }
    }

    /// <summary>Approximations of every row through the screen, then each row's first maximum; false when one cannot be decided.</summary>
    private static unsafe bool Screened<TExact>(LogitScreen screen, float* x, int inF, int rows, Span<int> indices, ref TExact exact)
        where TExact : struct, LogitScreen.IExactLogits
    {
        int kp = screen.Kp, outF = screen.Rows;
        var padded = LinearArgMaxScratch.Rows((long)rows * kp);
        var approx = LinearArgMaxScratch.Approximations((long)rows * outF);
        Span<double> norms = stackalloc double[rows], quantizationErrors = stackalloc double[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = new ReadOnlySpan<float>(x + (long)r * inF, inF);
            if ((norms[r] = LogitScreen.Norm(row)) < 0) return false;
            row.CopyTo(padded.AsSpan(r * kp, inF));
            padded.AsSpan(r * kp + inF, kp - inF).Clear();
        }
        fixed (float* pp = padded, pa = approx)
        {
            for (int r0 = 0; r0 < rows; r0 += 4)
                screen.ApproximateAll(Math.Min(4, rows - r0), pp + (long)r0 * kp, pa + (long)r0 * outF, quantizationErrors[r0..]);
            for (int r = 0; r < rows; r++)
            {
                exact.Start(x + (long)r * inF);
                int best = screen.FirstMaximumOf(pa + (long)r * outF, norms[r], quantizationErrors[r], ref exact);
                if (best < 0) return false;
                indices[r] = best;
            }
        }
        return true;
    }

    /// <summary>A float weight's logits by 32-column slivers, through the small-row path's own call (<see cref="GemmSmallM.PackedSliver"/>).</summary>
    private unsafe struct SliverLogits : LogitScreen.IExactLogits
    {
        public PackedMatrix Packed;
        public float* X, Buffer;
        public int K, Sliver;

        public void Start(float* row)
        {
            X = row;
            Sliver = -1;
        }

        public float Logit(int j)
        {
            const int width = GemmSmallM.StripWidth;
            if (j / width != Sliver)
            {
                Sliver = j / width;
                int start = Sliver * width;
                GemmSmallM.PackedSliver(1, K, X, K, Packed.Data, Packed.BlockDepth, Packed.NPad, start, Math.Min(width, Packed.N - start), Buffer, width, 1f, 0f);
            }
            return Buffer[j - Sliver * width];
        }
    }

    /// <summary>A 16-bit weight's logits one row at a time, through the one-row product's own dot (<see cref="HalfDotKernel.Dot1"/>).</summary>
    private unsafe struct HalfRowLogits : LogitScreen.IExactLogits
    {
        public float* X;
        public ushort* W;
        public int K;
        public bool BFloat16;

        public void Start(float* row) => X = row;

        public float Logit(int j) => BFloat16 ? HalfDotKernel.Dot1<BFloat16Widening>(K, X, W + (long)j * K) : HalfDotKernel.Dot1<Float16Widening>(K, X, W + (long)j * K);
    }
}
