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
        // Keep the per-row log-sum-exp for backward.
        var lse = Tensor.Uninitialized(new Shape(rows));
        var terms = Tensor.Uninitialized(new Shape(rows));
        CrossEntropyKernel.Forward(logits.Buffer, targets.Buffer, rows, classes, ignoreIndex, lse.Buffer, terms.Buffer);
        ReadOnlySpan<int> ts = targets.Span;
        ReadOnlySpan<float> termSpan = terms.Span;
        double total = 0;
        int count = 0;
        for (int r = 0; r < rows; r++)
        {
            if (ts[r] == ignoreIndex) continue;
            total += termSpan[r];
            count++;
        }
        var y = Tensor.Uninitialized(new Shape());
        y.Span[0] = count == 0 ? float.NaN : (float)(total / count);
        if (Tape.Needs(logits))
            Tape.Record(new TapeEntry
            {
                Op = CrossEntropyBackward.Instance, Output = y, A = logits, Saved0 = lse, State = targets, Int0 = ignoreIndex, Int1 = count
            });
        terms.RequestRelease();
        lse.RequestRelease();
        return y;
    }

    private sealed class CrossEntropyBackward : IBackward
    {
        public static readonly CrossEntropyBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.A | TapeSlots.Saved0;

        public void Backward(ref TapeEntry e)
        {
            var gl = Tape.GradOf(e.A);
            if (gl.IsEmpty || e.Int1 == 0) return;
            int classes = e.A!.Shape.Last;
            var targets = (IntTensor)e.State!;
            float scale = e.Output.Grad!.Span[0] / e.Int1;
            CrossEntropyKernel.Backward(e.A.Buffer, targets.Buffer, targets.Length, classes, e.Int0, e.Saved0!.Buffer, e.A.Grad!.Buffer, scale);
        }
    }
}
