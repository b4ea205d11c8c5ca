using System.Numerics.Tensors;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>The elementwise operations of <see cref="Binary"/>.</summary>
    internal enum BinaryKind { Add, Subtract, Multiply, Divide }

    /// <summary>a + b. Shapes must be equal, or one must equal the trailing dimensions of the other (broadcast over leading dimensions).</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary(BinaryKind.Add, "Add", a, b);

    /// <summary>a − b, with the broadcasting of <see cref="Add"/>.</summary>
    public static Tensor Subtract(Tensor a, Tensor b) => Binary(BinaryKind.Subtract, "Subtract", a, b);

    /// <summary>a · b elementwise, with the broadcasting of <see cref="Add"/>.</summary>
    public static Tensor Multiply(Tensor a, Tensor b) => Binary(BinaryKind.Multiply, "Multiply", a, b);

    /// <summary>a / b elementwise, with the broadcasting of <see cref="Add"/>.</summary>
    public static Tensor Divide(Tensor a, Tensor b) => Binary(BinaryKind.Divide, "Divide", a, b);

    /// <summary>x · factor.</summary>
    public static Tensor Scale(Tensor x, float factor)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = Tensor.Uninitialized(x.Shape);
        TensorPrimitives.Multiply(x.Span, factor, y.Span);
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = ScaleBackward.Instance, Output = y, A = x, Float0 = factor });
        return y;
    }

    /// <summary>x + value elementwise.</summary>
    public static Tensor AddScalar(Tensor x, float value)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = Tensor.Uninitialized(x.Shape);
        TensorPrimitives.Add(x.Span, value, y.Span);
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = ScaleBackward.Instance, Output = y, A = x, Float0 = 1f });
        return y;
    }

    /// <summary>True when <paramref name="small"/>'s dimensions are the trailing dimensions of <paramref name="large"/>.</summary>
    internal static bool IsTrailingSuffix(Shape small, Shape large)
    {
        if (small.Rank > large.Rank) return false;
        int offset = large.Rank - small.Rank;
        for (int i = 0; i < small.Rank; i++)
            if (small[i] != large[offset + i]) return false;
        return true;
    }

    private static Tensor Binary(BinaryKind kind, string name, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        Shape outShape;
        if (a.Shape == b.Shape || IsTrailingSuffix(b.Shape, a.Shape)) outShape = a.Shape;
        else if (IsTrailingSuffix(a.Shape, b.Shape)) outShape = b.Shape;
        else throw ShapeError(name,
            $"shapes {a.Shape} and {b.Shape} are not compatible; they must be equal or one must match the trailing dimensions of the other.");

        var y = Tensor.Uninitialized(outShape);
        var ys = y.Span;
        ReadOnlySpan<float> av = a.Span, bv = b.Span;
        int inner = Math.Min(a.Length, b.Length);
        // Same shapes (residual adds): chunks on every worker.
        if (a.Length == b.Length && inner > 0) ElementwiseBinaryTask.Run(kind, a.Buffer, b.Buffer, y.Buffer, inner);
        else if (inner > 0)
        {
            int reps = outShape.ElementCount / inner;
            for (int r = 0; r < reps; r++)
            {
                var ar = a.Length == inner ? av : av.Slice(r * inner, inner);
                var br = b.Length == inner ? bv : bv.Slice(r * inner, inner);
                ElementwiseBinaryTask.Apply(kind, ar, br, ys.Slice(r * inner, inner));
            }
        }
        if (Tape.Needs(a, b))
            Tape.Record(new TapeEntry { Op = BinaryBackward.Instance, Output = y, A = a, B = b, Int0 = (int)kind });
        return y;
    }

    private sealed class ScaleBackward : IBackward
    {
        public static readonly ScaleBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (!gx.IsEmpty) TensorPrimitives.MultiplyAdd(e.Output.Grad!.Span, e.Float0, gx, gx);
        }
    }

    private sealed class BinaryBackward : IBackward
    {
        public static readonly BinaryBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => (BinaryKind)e.Int0 switch
        {
            BinaryKind.Add or BinaryKind.Subtract => TapeSlots.None,
            BinaryKind.Multiply => (e.B!.RequiresGrad ? TapeSlots.A : TapeSlots.None) | (e.A!.RequiresGrad ? TapeSlots.B : TapeSlots.None),
            _ => (e.B!.RequiresGrad ? TapeSlots.A : TapeSlots.None) | TapeSlots.B,
        };

        public void Backward(ref TapeEntry e)
        {
            var kind = (BinaryKind)e.Int0;
            Tensor a = e.A!, b = e.B!;
            var ga = Tape.GradOf(a);
            var gb = Tape.GradOf(b);
            // Values are read only where a gradient needs them (see Reads): released operands stay untouched.
            bool needA = kind is BinaryKind.Multiply or BinaryKind.Divide && !gb.IsEmpty;
            bool needB = kind == BinaryKind.Divide || (kind == BinaryKind.Multiply && !ga.IsEmpty);
            ReadOnlySpan<float> g = e.Output.Grad!.Span, av = needA ? a.Span : default, bv = needB ? b.Span : default;
            int inner = Math.Min(a.Length, b.Length);
            if (inner == 0) return;
            int reps = g.Length / inner;
            for (int r = 0; r < reps; r++)
            {
                var gr = g.Slice(r * inner, inner);
                var ar = !needA || a.Length == inner ? av : av.Slice(r * inner, inner);
                var br = !needB || b.Length == inner ? bv : bv.Slice(r * inner, inner);
                var gar = ga.IsEmpty ? default : a.Length == inner ? ga : ga.Slice(r * inner, inner);
                var gbr = gb.IsEmpty ? default : b.Length == inner ? gb : gb.Slice(r * inner, inner);
                switch (kind)
                {
                    case BinaryKind.Add:
                        if (!gar.IsEmpty) TensorPrimitives.Add(gar, gr, gar);
                        if (!gbr.IsEmpty) TensorPrimitives.Add(gbr, gr, gbr);
                        break;
                    case BinaryKind.Subtract:
                        if (!gar.IsEmpty) TensorPrimitives.Add(gar, gr, gar);
                        if (!gbr.IsEmpty) TensorPrimitives.Subtract(gbr, gr, gbr);
                        break;
                    case BinaryKind.Multiply:
                        if (!gar.IsEmpty) TensorPrimitives.MultiplyAdd(gr, br, gar, gar);
                        if (!gbr.IsEmpty) TensorPrimitives.MultiplyAdd(gr, ar, gbr, gbr);
                        break;
                    default:
                        for (int i = 0; i < gr.Length; i++)
                        {
                            float inv = 1f / br[i];
                            if (!gar.IsEmpty) gar[i] += gr[i] * inv;
                            if (!gbr.IsEmpty) gbr[i] -= gr[i] * ar[i] * inv * inv;
                        }
                        break;
                }
            }
        }
    }
}
