using System.Numerics.Tensors;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Layer normalization over the last dimension: (x − mean)/√(var + eps)·weight + bias, with the
    /// biased variance (PyTorch's nn.LayerNorm). Weight and bias [dim] may be null.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, Tensor? weight, Tensor? bias, float epsilon) => Normalize(x, weight, bias, epsilon, rms: false);

    /// <summary>
    /// RMS normalization over the last dimension: x/√(mean(x²) + eps)·weight (Llama's RMSNorm and
    /// T5's LayerNorm, both computed in float32).
    /// </summary>
    public static Tensor RmsNorm(Tensor x, Tensor? weight, float epsilon) => Normalize(x, weight, null, epsilon, rms: true);

    private static Tensor Normalize(Tensor x, Tensor? weight, Tensor? bias, float eps, bool rms)
    {
        ArgumentNullException.ThrowIfNull(x);
        string op = rms ? "RmsNorm" : "LayerNorm";
        if (x.Rank == 0) throw ShapeError(op, "needs a tensor of rank 1 or more; got a scalar.");
        int d = x.Shape.Last, rows = x.Shape.Rows;
        if (weight is not null && (weight.Rank != 1 || weight.Shape[0] != d))
            throw ShapeError(op, $"weight {weight.Shape} must be [{d}] to match input {x.Shape}.");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != d))
            throw ShapeError(op, $"bias {bias.Shape} must be [{d}] to match input {x.Shape}.");
        if (!(eps >= 0)) throw ShapeError(op, $"epsilon must be >= 0; got {eps}.");
        var y = Tensor.Uninitialized(x.Shape);
        var stats = Tensor.Uninitialized(new Shape(rows, 2)); // mean, 1/std per row
        NormalizeRowsTask.Run(x.Buffer, y.Buffer, weight?.Buffer, bias?.Buffer, stats.Buffer, rows, d, eps, rms);
        if (Tape.Needs(x, weight, bias))
            Tape.Record(new TapeEntry { Op = NormalizeBackward.Instance, Output = y, A = x, B = weight, C = bias, Saved0 = stats, Int0 = rms ? 1 : 0 });
        // The statistics are this op's own: back to the pool after backward (at once without one).
        stats.RequestRelease();
        return y;
    }

    private sealed class NormalizeBackward : IBackward
    {
        public static readonly NormalizeBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.A | TapeSlots.B | TapeSlots.Saved0;

        public void Backward(ref TapeEntry e)
        {
            Tensor x = e.A!;
            bool rms = e.Int0 == 1;
            int d = x.Shape.Last, rows = x.Shape.Rows;
            ReadOnlySpan<float> g = e.Output.Grad!.Span, xs = x.Span, st = e.Saved0!.Span;
            ReadOnlySpan<float> w = e.B is null ? default : e.B.Span;
            var gx = Tape.GradOf(x);
            var gw = Tape.GradOf(e.B);
            var gb = Tape.GradOf(e.C);
            Span<float> xhat = d <= 4096 ? stackalloc float[d] : new float[d];
            Span<float> dxhat = d <= 4096 ? stackalloc float[d] : new float[d];
            for (int r = 0; r < rows; r++)
            {
                var gr = g.Slice(r * d, d);
                var xr = xs.Slice(r * d, d);
                float mean = st[2 * r], rstd = st[2 * r + 1];
                if (rms) TensorPrimitives.Multiply(xr, rstd, xhat);
                else
                {
                    TensorPrimitives.Subtract(xr, mean, xhat);
                    TensorPrimitives.Multiply(xhat, rstd, xhat);
                }
                if (!gw.IsEmpty) TensorPrimitives.MultiplyAdd(gr, xhat, gw, gw);
                if (!gb.IsEmpty) TensorPrimitives.Add(gb, gr, gb);
                if (gx.IsEmpty) continue;
                if (w.IsEmpty) gr.CopyTo(dxhat);
                else TensorPrimitives.Multiply(gr, w, dxhat);
                float meanDot = TensorPrimitives.Dot(dxhat, xhat) / d;
                float meanD = rms ? 0f : TensorPrimitives.Sum(dxhat) / d;
                // gx += rstd·(dxhat − meanD − xhat·meanDot), in three vector passes over L1-resident rows.
                var gxr = gx.Slice(r * d, d);
                if (meanD != 0f) TensorPrimitives.Subtract(dxhat, meanD, dxhat);
                TensorPrimitives.MultiplyAdd(xhat, -meanDot, dxhat, dxhat);
                TensorPrimitives.MultiplyAdd(dxhat, rstd, gxr, gxr);
            }
        }
    }
}
