namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Mean cross-entropy of <paramref name="logits"/> [..., classes] against class indices
    /// <paramref name="targets"/> [...], skipping targets equal to <paramref name="ignoreIndex"/>
    /// (PyTorch's F.cross_entropy with reduction "mean"). When every target is ignored the result
    /// is NaN, as in PyTorch. Returns a scalar.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, IntTensor targets, int ignoreIndex = -100)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Rank < 1) throw ShapeError("CrossEntropy", $"logits must have a class dimension; got {logits.Shape}.");
        int classes = logits.Shape.Last, rows = logits.Shape.Rows;
        if (targets.Length != rows || targets.Shape.Rank != logits.Rank - 1)
            throw ShapeError("CrossEntropy", $"targets {targets.Shape} must match logits {logits.Shape} without its last dimension.");
        targets.CheckRange("CrossEntropy targets", classes, ignoreIndex);
        ReadOnlySpan<float> ls = logits.Span;
        ReadOnlySpan<int> ts = targets.Span;
        // Keep the per-row log-sum-exp for backward.
        var lse = Tensor.Uninitialized(new Shape(rows));
        var lseSpan = lse.Span;
        double total = 0;
        int count = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = ls.Slice(r * classes, classes);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += MathF.Exp(row[c] - max);
            float logSumExp = max + (float)Math.Log(sum);
            lseSpan[r] = logSumExp;
            if (ts[r] == ignoreIndex) continue;
            total += logSumExp - row[ts[r]];
            count++;
        }
        var y = Tensor.Uninitialized(new Shape());
        y.Span[0] = count == 0 ? float.NaN : (float)(total / count);
        if (Tape.Needs(logits))
            Tape.Record(new TapeEntry { Op = CrossEntropyBackward.Instance, Output = y, A = logits, Saved0 = lse, State = targets, Int0 = ignoreIndex, Int1 = count });
        return y;
    }

    private sealed class CrossEntropyBackward : IBackward
    {
        public static readonly CrossEntropyBackward Instance = new();

        public void Backward(ref TapeEntry e)
        {
            var gl = Tape.GradOf(e.A);
            if (gl.IsEmpty || e.Int1 == 0) return;
            int classes = e.A!.Shape.Last;
            ReadOnlySpan<float> ls = e.A.Span, lse = e.Saved0!.Span;
            ReadOnlySpan<int> ts = ((IntTensor)e.State!).Span;
            float scale = e.Output.Grad!.Span[0] / e.Int1;
            for (int r = 0; r < ts.Length; r++)
            {
                if (ts[r] == e.Int0) continue;
                var row = ls.Slice(r * classes, classes);
                var grow = gl.Slice(r * classes, classes);
                float l = lse[r];
                // softmax − one-hot, times the upstream gradient over the count.
                for (int c = 0; c < classes; c++) grow[c] += scale * MathF.Exp(row[c] - l);
                grow[ts[r]] -= scale;
            }
        }
    }
}
