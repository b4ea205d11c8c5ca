using System.Numerics.Tensors;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>Sum over <paramref name="axis"/>; the axis is dropped unless <paramref name="keepDim"/>.</summary>
    public static Tensor Sum(Tensor x, int axis, bool keepDim = false) => Reduce(x, axis, keepDim, mean: false);

    /// <summary>Mean over <paramref name="axis"/>; the axis is dropped unless <paramref name="keepDim"/>.</summary>
    public static Tensor Mean(Tensor x, int axis, bool keepDim = false) => Reduce(x, axis, keepDim, mean: true);

    /// <summary>Sum of every element, as a scalar.</summary>
    public static Tensor SumAll(Tensor x) => ReduceAll(x, mean: false);

    /// <summary>Mean of every element, as a scalar.</summary>
    public static Tensor MeanAll(Tensor x) => ReduceAll(x, mean: true);

    private static Tensor ReduceAll(Tensor x, bool mean)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (mean && x.Length == 0) throw ShapeError("MeanAll", $"the mean of an empty tensor {x.Shape} is undefined.");
        double sum = 0;
        foreach (float v in x.Span) sum += v;
        var y = Tensor.Uninitialized(new Shape());
        y.Span[0] = (float)(mean ? sum / x.Length : sum);
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = ReduceAllBackward.Instance, Output = y, A = x, Float0 = mean ? 1f / x.Length : 1f });
        return y;
    }

    private static Tensor Reduce(Tensor x, int axis, bool keepDim, bool mean)
    {
        ArgumentNullException.ThrowIfNull(x);
        string op = mean ? "Mean" : "Sum";
        if (x.Rank == 0) throw ShapeError(op, "needs a tensor of rank 1 or more; got a scalar.");
        int a = x.Shape.NormalizeAxis(axis);
        int n = x.Shape[a], inner = x.Shape.Stride(a), outer = x.Shape.ProductRange(0, a);
        if (mean && n == 0) throw ShapeError(op, $"axis {a} of {x.Shape} is empty.");
        Span<int> dims = stackalloc int[x.Rank];
        int r = 0;
        for (int i = 0; i < x.Rank; i++)
        {
            if (i != a) dims[r++] = x.Shape[i];
            else if (keepDim) dims[r++] = 1;
        }
        var y = Tensor.Zeros(new Shape(dims[..r]));
        ReadOnlySpan<float> xs = x.Span;
        var ys = y.Span;
        for (int o = 0; o < outer; o++)
        {
            var dst = ys.Slice(o * inner, inner);
            for (int k = 0; k < n; k++) TensorPrimitives.Add(dst, xs.Slice((o * n + k) * inner, inner), dst);
        }
        float scale = mean ? 1f / n : 1f;
        if (mean) TensorPrimitives.Multiply(ys, scale, ys);
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = ReduceBackward.Instance, Output = y, A = x, Int0 = a, Float0 = scale });
        return y;
    }

    private sealed class ReduceAllBackward : IBackward
    {
        public static readonly ReduceAllBackward Instance = new();

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (!gx.IsEmpty) TensorPrimitives.Add(gx, e.Output.Grad!.Span[0] * e.Float0, gx);
        }
    }

    private sealed class ReduceBackward : IBackward
    {
        public static readonly ReduceBackward Instance = new();

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (gx.IsEmpty) return;
            var shape = e.A!.Shape;
            int a = e.Int0;
            int n = shape[a], inner = shape.Stride(a), outer = shape.ProductRange(0, a);
            ReadOnlySpan<float> g = e.Output.Grad!.Span;
            for (int o = 0; o < outer; o++)
            {
                var src = g.Slice(o * inner, inner);
                for (int k = 0; k < n; k++)
                {
                    var dst = gx.Slice((o * n + k) * inner, inner);
                    TensorPrimitives.MultiplyAdd(src, e.Float0, dst, dst);
                }
            }
        }
    }
}
