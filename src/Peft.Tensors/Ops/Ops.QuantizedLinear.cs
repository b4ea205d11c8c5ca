using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Fully connected layer over a frozen quantized weight: x·Wᵀ + bias, with x [..., in], weight
    /// [out, in] and bias [out] or null. Backward gives x its gradient (dY·W computed from the
    /// quantized weight) and the bias its gradient if it trains; the weight gets none.
    /// </summary>
    /// <exception cref="ArgumentException">x does not end in the weight's in-features, or the bias is not [out].</exception>
    public static Tensor QuantizedLinear(Tensor x, QuantizedMatrix weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        int outF = weight.Rows, inF = weight.Columns;
        if (x.Rank < 1 || x.Shape[-1] != inF)
            throw ShapeError("QuantizedLinear", $"input {x.Shape} must end in the weight's in-features {inF} ({weight.Format} weight [{outF}, {inF}]).");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF))
            throw ShapeError("QuantizedLinear", $"bias {bias.Shape} must be [{outF}] to match the {weight.Format} weight [{outF}, {inF}].");
        int rows = x.Length / inF;
        var y = Tensor.Uninitialized(x.Shape.With(-1, outF));
        var ys = y.Span;
        // The product's threads add the bias, each to the columns it computed.
        QuantizedGemm.MultiplyTransposedAddRow(rows, x.Span, weight, bias is null ? [] : bias.Span, ys);
        if (Tape.Needs(x, bias))
            Tape.Record(new TapeEntry
            {
                Op = QuantizedLinearBackward.Instance, Output = y, A = x, C = bias, State = weight, Int0 = rows, Int1 = inF, Int2 = outF
            });
        return y;
    }

    private sealed class QuantizedLinearBackward : IBackward
    {
        public static readonly QuantizedLinearBackward Instance = new();

        // The quantized weight is frozen: backward multiplies by it (held in State) and reads no input.
        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var w = (QuantizedMatrix)e.State!;
            int rows = e.Int0, outF = e.Int2;
            ReadOnlySpan<float> g = e.Output.Grad!.Span;
            var gx = Tape.GradOf(e.A);
            if (!gx.IsEmpty) QuantizedGemm.MultiplyAccumulate(rows, g, w, gx);
            var gbias = Tape.GradOf(e.C);
            if (!gbias.IsEmpty)
                for (int r = 0; r < rows; r++)
                    System.Numerics.Tensors.TensorPrimitives.Add(gbias, g.Slice(r * outF, outF), gbias);
        }
    }
}
