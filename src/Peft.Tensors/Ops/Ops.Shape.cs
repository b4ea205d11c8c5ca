namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>Joins tensors along <paramref name="axis"/>; all other dimensions must match.</summary>
    public static Tensor Concat(ReadOnlySpan<Tensor> parts, int axis)
    {
        if (parts.Length == 0) throw ShapeError("Concat", "needs at least one tensor.");
        var first = parts[0] ?? throw new ArgumentNullException(nameof(parts));
        int a = first.Shape.NormalizeAxis(axis);
        int total = 0;
        foreach (var p in parts)
        {
            ArgumentNullException.ThrowIfNull(p);
            if (p.Rank != first.Rank) throw ShapeError("Concat", $"tensors {first.Shape} and {p.Shape} have different ranks.");
            for (int i = 0; i < p.Rank; i++)
                if (i != a && p.Shape[i] != first.Shape[i])
                    throw ShapeError("Concat", $"tensors {first.Shape} and {p.Shape} differ outside axis {a}.");
            total += p.Shape[a];
        }
        var outShape = first.Shape.With(a, total);
        var y = Tensor.Uninitialized(outShape);
        int inner = first.Shape.Stride(a), outer = first.Shape.ProductRange(0, a);
        var ys = y.Span;
        int offset = 0;
        foreach (var p in parts)
        {
            int block = p.Shape[a] * inner;
            ReadOnlySpan<float> ps = p.Span;
            for (int o = 0; o < outer; o++)
                ps.Slice(o * block, block).CopyTo(ys.Slice(o * total * inner + offset * inner, block));
            offset += p.Shape[a];
        }
        bool needs = false;
        foreach (var p in parts) needs |= Tape.Needs(p);
        if (needs)
        {
            // Each part gets its own entry so backward needs no per-call list.
            offset = 0;
            foreach (var p in parts)
            {
                if (Tape.Needs(p))
                    Tape.Record(new TapeEntry { Op = SliceBackward.Instance, Output = y, A = p, Int0 = a, Int1 = offset });
                offset += p.Shape[a];
            }
        }
        return y;
    }

    /// <summary>Copies <paramref name="length"/> positions of <paramref name="axis"/> starting at <paramref name="start"/>.</summary>
    public static Tensor Slice(Tensor x, int axis, int start, int length)
    {
        ArgumentNullException.ThrowIfNull(x);
        int a = x.Shape.NormalizeAxis(axis);
        if (start < 0 || length < 0 || start + length > x.Shape[a])
            throw ShapeError("Slice", $"range [{start}, {start + length}) is outside axis {a} of {x.Shape} (size {x.Shape[a]}).");
        var y = Tensor.Uninitialized(x.Shape.With(a, length));
        int inner = x.Shape.Stride(a), outer = x.Shape.ProductRange(0, a), n = x.Shape[a];
        ReadOnlySpan<float> xs = x.Span;
        var ys = y.Span;
        for (int o = 0; o < outer; o++)
            xs.Slice((o * n + start) * inner, length * inner).CopyTo(ys.Slice(o * length * inner, length * inner));
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = SliceOfBackward.Instance, Output = y, A = x, Int0 = a, Int1 = start });
        return y;
    }

    /// <summary>Swaps two axes (copying).</summary>
    public static Tensor Transpose(Tensor x, int axis0, int axis1)
    {
        ArgumentNullException.ThrowIfNull(x);
        int a0 = x.Shape.NormalizeAxis(axis0), a1 = x.Shape.NormalizeAxis(axis1);
        Span<int> axes = stackalloc int[x.Rank];
        for (int i = 0; i < axes.Length; i++) axes[i] = i;
        (axes[a0], axes[a1]) = (axes[a1], axes[a0]);
        return Permute(x, axes);
    }

    /// <summary>Reorders axes: output axis i is input axis <paramref name="axes"/>[i] (copying).</summary>
    public static Tensor Permute(Tensor x, params ReadOnlySpan<int> axes)
    {
        ArgumentNullException.ThrowIfNull(x);
        int rank = x.Rank;
        if (axes.Length != rank) throw ShapeError("Permute", $"got {axes.Length} axes for a tensor of shape {x.Shape}.");
        Span<int> perm = stackalloc int[rank];
        Span<bool> seen = stackalloc bool[rank];
        for (int i = 0; i < rank; i++)
        {
            int a = x.Shape.NormalizeAxis(axes[i]);
            if (seen[a]) throw ShapeError("Permute", $"axis {a} appears twice in [{string.Join(", ", axes.ToArray())}].");
            seen[a] = true;
            perm[i] = a;
        }
        Span<int> outDims = stackalloc int[rank];
        for (int i = 0; i < rank; i++) outDims[i] = x.Shape[perm[i]];
        var y = Tensor.Uninitialized(new Shape(outDims));
        PermuteCopy(x.Span, x.Shape, perm, y.Span, accumulate: false);
        if (Tape.Needs(x))
        {
            int packed = 0;
            for (int i = 0; i < rank; i++) packed |= perm[i] << (3 * i);
            Tape.Record(new TapeEntry { Op = PermuteBackward.Instance, Output = y, A = x, Int0 = packed, Int1 = rank });
        }
        return y;
    }

    /// <summary>
    /// dst (in permuted order) = src permuted by perm, or dst += when accumulating. When the last
    /// axis stays last, whole rows are copied at once.
    /// </summary>
    private static void PermuteCopy(ReadOnlySpan<float> src, Shape srcShape, ReadOnlySpan<int> perm, Span<float> dst, bool accumulate)
    {
        int rank = srcShape.Rank;
        if (rank == 0 || srcShape.ElementCount == 0)
        {
            if (rank == 0) { if (accumulate) dst[0] += src[0]; else dst[0] = src[0]; }
            return;
        }
        Span<int> srcStride = stackalloc int[rank];
        for (int i = 0; i < rank; i++) srcStride[i] = srcShape.Stride(i);
        Span<int> outDims = stackalloc int[rank];
        Span<int> strideInOutOrder = stackalloc int[rank];
        for (int i = 0; i < rank; i++)
        {
            outDims[i] = srcShape[perm[i]];
            strideInOutOrder[i] = srcStride[perm[i]];
        }
        bool rowCopy = perm[rank - 1] == rank - 1;
        int run = rowCopy ? outDims[rank - 1] : 1;
        int loopRank = rowCopy ? rank - 1 : rank;
        Span<int> index = stackalloc int[Math.Max(1, loopRank)];
        index.Clear();
        int total = srcShape.ElementCount / run;
        int srcOffset = 0;
        for (int n = 0; n < total; n++)
        {
            var d = dst.Slice(n * run, run);
            var s = src.Slice(srcOffset, run);
            if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(d, s, d);
            else if (run == 1) d[0] = s[0];
            else s.CopyTo(d);
            // Advance the odometer over the output's outer axes.
            for (int ax = loopRank - 1; ax >= 0; ax--)
            {
                srcOffset += strideInOutOrder[ax];
                if (++index[ax] < outDims[ax]) break;
                srcOffset -= strideInOutOrder[ax] * outDims[ax];
                index[ax] = 0;
            }
        }
    }

    private sealed class PermuteBackward : IBackward
    {
        public static readonly PermuteBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (gx.IsEmpty) return;
            int rank = e.Int1;
            Span<int> inverse = stackalloc int[rank];
            for (int i = 0; i < rank; i++) inverse[(e.Int0 >> (3 * i)) & 7] = i;
            // The gradient of a permutation is the inverse permutation of the output gradient.
            PermuteCopy(e.Output.Grad!.Span, e.Output.Shape, inverse, gx, accumulate: true);
        }
    }

    /// <summary>Backward of Concat: each part takes its slice of the output gradient.</summary>
    private sealed class SliceBackward : IBackward
    {
        public static readonly SliceBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var gp = Tape.GradOf(e.A);
            if (gp.IsEmpty) return;
            var outShape = e.Output.Shape;
            int a = e.Int0, offset = e.Int1, len = e.A!.Shape[a], total = outShape[a];
            int inner = outShape.Stride(a), outer = outShape.ProductRange(0, a);
            ReadOnlySpan<float> g = e.Output.Grad!.Span;
            for (int o = 0; o < outer; o++)
            {
                var dst = gp.Slice(o * len * inner, len * inner);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, g.Slice((o * total + offset) * inner, len * inner), dst);
            }
        }
    }

    /// <summary>Backward of Slice: the gradient goes back into its range of the input.</summary>
    private sealed class SliceOfBackward : IBackward
    {
        public static readonly SliceOfBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (gx.IsEmpty) return;
            var inShape = e.A!.Shape;
            int a = e.Int0, start = e.Int1, len = e.Output.Shape[a], n = inShape[a];
            int inner = inShape.Stride(a), outer = inShape.ProductRange(0, a);
            ReadOnlySpan<float> g = e.Output.Grad!.Span;
            for (int o = 0; o < outer; o++)
            {
                var dst = gx.Slice((o * n + start) * inner, len * inner);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, g.Slice(o * len * inner, len * inner), dst);
            }
        }
    }
}
