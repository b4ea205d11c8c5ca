using Peft.Tensors.Kernels;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Matrix product op(a)·op(b). Both 2-D ([M,K]·[K,N]), or batched: a is [..., M, K] and b is
    /// either [..., K, N] with the same leading dimensions or a 2-D matrix shared by every batch.
    /// <paramref name="transposeA"/>/<paramref name="transposeB"/> use the stored matrices transposed.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rank < 2 || b.Rank < 2)
            throw ShapeError("MatMul", $"both operands need rank 2 or more; got {a.Shape} and {b.Shape}.");
        int m = transposeA ? a.Shape[-1] : a.Shape[-2];
        int k = transposeA ? a.Shape[-2] : a.Shape[-1];
        int kb = transposeB ? b.Shape[-1] : b.Shape[-2];
        int n = transposeB ? b.Shape[-2] : b.Shape[-1];
        if (k != kb)
            throw ShapeError("MatMul",
                $"inner dimensions differ: {a.Shape}{(transposeA ? "ᵀ" : "")} has K={k}, {b.Shape}{(transposeB ? "ᵀ" : "")} has K={kb}.");
        int batch = a.Shape.ProductRange(0, a.Rank - 2);
        bool sharedB = b.Rank == 2;
        if (!sharedB)
        {
            if (b.Rank != a.Rank || b.Shape.ProductRange(0, b.Rank - 2) != batch || !LeadingEqual(a.Shape, b.Shape, a.Rank - 2))
                throw ShapeError("MatMul", $"batch dimensions of {a.Shape} and {b.Shape} differ; b must have the same leading dimensions or be 2-D.");
        }
        var outShape = a.Shape.With(-2, m).With(-1, n);
        var y = Tensor.Uninitialized(outShape);
        var ys = y.Span;
        ReadOnlySpan<float> av = a.Span, bv = b.Span;
        int lda = a.Shape[-1], ldb = b.Shape[-1];
        if (sharedB && !transposeA)
        {
            // One big GEMM over all rows: [batch·M, K]·op(B).
            Gemm.Multiply(false, transposeB, batch * m, n, k, 1f, av, lda, bv, ldb, 0f, ys, n);
        }
        else
        {
            for (int p = 0; p < batch; p++)
            {
                var ap = av.Slice(p * m * k, m * k);
                var bp = sharedB ? bv : bv.Slice(p * k * n, k * n);
                Gemm.Multiply(transposeA, transposeB, m, n, k, 1f, ap, lda, bp, ldb, 0f, ys.Slice(p * m * n, m * n), n);
            }
        }
        if (Tape.Needs(a, b))
            Tape.Record(new TapeEntry
            {
                Op = MatMulBackward.Instance, Output = y, A = a, B = b, Int0 = m, Int1 = n, Int2 = k,
                Int3 = (transposeA ? 1 : 0) | (transposeB ? 2 : 0)
            });
        return y;
    }

    private static bool LeadingEqual(Shape a, Shape b, int count)
    {
        for (int i = 0; i < count; i++)
            if (a[i] != b[i]) return false;
        return true;
    }

    /// <summary>
    /// Fully connected layer: x·Wᵀ + bias, with x [..., in], weight [out, in] (PyTorch's layout)
    /// and bias [out] or null. A weight that does not require gradients gets no weight-gradient
    /// GEMM in backward, and is multiplied through a packed copy made on first use (call
    /// <see cref="Tensor.MarkModified"/> after changing such a weight in place).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw ShapeError("Linear", $"weight must be 2-D [out, in]; got {weight.Shape}.");
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (x.Rank < 1 || x.Shape[-1] != inF)
            throw ShapeError("Linear", $"input {x.Shape} must end in the weight's in-features {inF} (weight {weight.Shape}).");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF))
            throw ShapeError("Linear", $"bias {bias.Shape} must be [{outF}] to match weight {weight.Shape}.");
        int rows = x.Length / inF;
        var y = Tensor.Uninitialized(x.Shape.With(-1, outF));
        var ys = y.Span;
        var packed = PackedWeightCache.Applies(weight, rows) ? PackedWeightCache.Forward(weight) : PackedWeightCache.ExistingForward(weight);
        // The bias (if any) is added by the product's own threads, each to its part of y.
        ReadOnlySpan<float> bs = bias is null ? default : bias.Span;
        if (packed is not null) Gemm.MultiplyAddRow(rows, x.Span, inF, packed, bs, ys, outF);
        else Gemm.MultiplyAddRow(true, rows, outF, inF, x.Span, inF, weight.Span, inF, bs, ys, outF);
        if (Tape.Needs(x, weight, bias))
            Tape.Record(new TapeEntry { Op = LinearBackward.Instance, Output = y, A = x, B = weight, C = bias, Int0 = rows, Int1 = inF, Int2 = outF });
        return y;
    }

    private sealed class MatMulBackward : IBackward
    {
        public static readonly MatMulBackward Instance = new();

        // dA needs B's values and dB needs A's: a frozen weight's input is not kept for backward.
        public TapeSlots Reads(in TapeEntry e) =>
            (e.B!.RequiresGrad ? TapeSlots.A : TapeSlots.None) | (e.A!.RequiresGrad ? TapeSlots.B : TapeSlots.None);

        public void Backward(ref TapeEntry e)
        {
            Tensor a = e.A!, b = e.B!;
            int m = e.Int0, n = e.Int1, k = e.Int2;
            bool ta = (e.Int3 & 1) != 0, tb = (e.Int3 & 2) != 0;
            var ga = Tape.GradOf(a);
            var gb = Tape.GradOf(b);
            // dA reads only B and dB only A (a released operand is never touched).
            ReadOnlySpan<float> g = e.Output.Grad!.Span, av = gb.IsEmpty ? default : a.Span, bv = ga.IsEmpty ? default : b.Span;
            int lda = a.Shape[-1], ldb = b.Shape[-1];
            bool sharedB = b.Rank == 2;
            int batch = g.Length / (m * n);
            if (sharedB && !ta)
            {
                int rows = batch * m;
                // dA = dC·op(B)ᵀ ; dB = op(A)ᵀ·dC summed over all rows.
                if (!ga.IsEmpty) Gemm.Multiply(false, !tb, rows, k, n, 1f, g, n, bv, ldb, 1f, ga, lda);
                if (!gb.IsEmpty)
                {
                    if (!tb) Gemm.Multiply(true, false, k, n, rows, 1f, av, lda, g, n, 1f, gb, ldb);
                    else Gemm.Multiply(true, false, n, k, rows, 1f, g, n, av, lda, 1f, gb, ldb);
                }
                return;
            }
            for (int p = 0; p < batch; p++)
            {
                var gp = g.Slice(p * m * n, m * n);
                if (!ga.IsEmpty)
                {
                    var bp = sharedB ? bv : bv.Slice(p * k * n, k * n);
                    var gap = ga.Slice(p * m * k, m * k);
                    if (!ta) Gemm.Multiply(false, !tb, m, k, n, 1f, gp, n, bp, ldb, 1f, gap, lda);
                    else Gemm.Multiply(tb, true, k, m, n, 1f, bp, ldb, gp, n, 1f, gap, lda);
                }
                if (!gb.IsEmpty)
                {
                    var ap = av.Slice(p * m * k, m * k);
                    var gbp = sharedB ? gb : gb.Slice(p * k * n, k * n);
                    if (!tb) Gemm.Multiply(!ta, false, k, n, m, 1f, ap, lda, gp, n, 1f, gbp, ldb);
                    else Gemm.Multiply(true, ta, n, k, m, 1f, gp, n, ap, lda, 1f, gbp, ldb);
                }
            }
        }
    }

    private sealed class LinearBackward : IBackward
    {
        public static readonly LinearBackward Instance = new();

        // dA needs B's values and dB needs A's: a frozen weight's input is not kept for backward.
        public TapeSlots Reads(in TapeEntry e) =>
            (e.B!.RequiresGrad ? TapeSlots.A : TapeSlots.None) | (e.A!.RequiresGrad ? TapeSlots.B : TapeSlots.None);

        public void Backward(ref TapeEntry e)
        {
            Tensor x = e.A!, w = e.B!;
            int rows = e.Int0, inF = e.Int1, outF = e.Int2;
            ReadOnlySpan<float> g = e.Output.Grad!.Span;
            var gx = Tape.GradOf(x);
            if (!gx.IsEmpty)
            {
                if (PackedWeightCache.Applies(w, rows))
                    Gemm.Multiply(false, rows, 1f, g, outF, PackedWeightCache.Backward(w), 1f, gx, inF);
                else
                    Gemm.Multiply(false, false, rows, inF, outF, 1f, g, outF, w.Span, inF, 1f, gx, inF);
            }
            // Frozen weights (no RequiresGrad) skip this GEMM entirely: that is PEFT's saving.
            var gw = Tape.GradOf(w);
            if (!gw.IsEmpty) Gemm.Multiply(true, false, outF, inF, rows, 1f, g, outF, x.Span, inF, 1f, gw, inF);
            var gbias = Tape.GradOf(e.C);
            if (!gbias.IsEmpty)
                for (int r = 0; r < rows; r++)
                    System.Numerics.Tensors.TensorPrimitives.Add(gbias, g.Slice(r * outF, outF), gbias);
        }
    }
}
