using Peft.Tensors.Kernels;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// <c>CrossEntropy(Linear(hidden, weight), targets)</c> without ever holding the [rows, classes]
    /// logits: rows go through in chunks whose logits live only in a scratch buffer, and backward
    /// recomputes each chunk's logits (one extra product with <paramref name="weight"/>). For a
    /// language model's head, whose logits are the largest tensors of a training step, this trades
    /// that memory for about a third more head work.
    /// </summary>
    /// <param name="hidden">[rows, features].</param>
    /// <param name="weight">[classes, features] (the LM head; may train).</param>
    /// <param name="targets">[rows] class per row; <paramref name="ignoreIndex"/> rows are skipped.</param>
    /// <param name="ignoreIndex">Target value to skip (-100).</param>
    /// <param name="chunkRows">Rows per chunk (scratch is chunkRows × classes floats).</param>
    /// <returns>The mean over non-ignored rows (NaN when every row is ignored), a scalar.</returns>
    public static Tensor LinearCrossEntropy(Tensor hidden, Tensor weight, IntTensor targets, int ignoreIndex = -100, int chunkRows = 256)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(targets);
        if (hidden.Rank != 2 || weight.Rank != 2 || hidden.Shape[1] != weight.Shape[1])
            throw ShapeError("LinearCrossEntropy", $"hidden {hidden.Shape} must be [rows, features] and weight {weight.Shape} [classes, features] with the same features.");
        int rows = hidden.Shape[0], features = hidden.Shape[1], classes = weight.Shape[0];
        if (targets.Shape.Rank != 1 || targets.Length != rows)
            throw ShapeError("LinearCrossEntropy", $"targets {targets.Shape} must be [{rows}].");
        if (chunkRows < 1) throw new ArgumentOutOfRangeException(nameof(chunkRows), $"chunkRows must be at least 1; got {chunkRows}.");
        targets.CheckRange("LinearCrossEntropy targets", classes, ignoreIndex);
        var lse = Tensor.Uninitialized(new Shape(rows));
        var terms = new float[rows];
        var scratch = Tensor.Uninitialized(new Shape(Math.Min(chunkRows, rows), classes));
        var chunkTargets = new int[Math.Min(chunkRows, rows)];
        var chunkLse = new float[chunkTargets.Length];
        var chunkTerms = new float[chunkTargets.Length];
        for (int start = 0; start < rows; start += chunkRows)
        {
            int n = Math.Min(chunkRows, rows - start);
            Gemm.Multiply(false, true, n, classes, features, 1f, hidden.Span.Slice(start * features, n * features), features, weight.Span, features, 0f, scratch.Span, classes);
            targets.Span.Slice(start, n).CopyTo(chunkTargets);
            CrossEntropyKernel.Forward(scratch.Buffer, chunkTargets, n, classes, ignoreIndex, chunkLse, chunkTerms);
            chunkLse.AsSpan(0, n).CopyTo(lse.Span.Slice(start, n));
            chunkTerms.AsSpan(0, n).CopyTo(terms.AsSpan(start, n));
        }
        double total = 0;
        int count = 0;
        for (int r = 0; r < rows; r++)
        {
            if (targets.Span[r] == ignoreIndex) continue;
            total += terms[r];
            count++;
        }
        var y = Tensor.Uninitialized(new Shape());
        y.Span[0] = count == 0 ? float.NaN : (float)(total / count);
        if (Tape.Needs(hidden, weight))
            Tape.Record(new TapeEntry
            {
                Op = LinearCrossEntropyBackward.Instance, Output = y, A = hidden, B = weight, Saved0 = lse, Saved1 = scratch, State = targets,
                Int0 = ignoreIndex, Int1 = count, Int2 = chunkRows,
            });
        return y;
    }

    private sealed class LinearCrossEntropyBackward : IBackward
    {
        public static readonly LinearCrossEntropyBackward Instance = new();

        public void Backward(ref TapeEntry e)
        {
            if (e.Int1 == 0) return;
            Tensor hidden = e.A!, weight = e.B!, scratch = e.Saved1!;
            var targets = (IntTensor)e.State!;
            int rows = hidden.Shape[0], features = hidden.Shape[1], classes = weight.Shape[0], chunkRows = e.Int2, ignore = e.Int0;
            float scale = e.Output.Grad!.Span[0] / e.Int1;
            var gh = Tape.GradOf(hidden);
            var gw = Tape.GradOf(weight);
            var chunkTargets = new int[Math.Min(chunkRows, rows)];
            var chunkLse = new float[chunkTargets.Length];
            for (int start = 0; start < rows; start += chunkRows)
            {
                int n = Math.Min(chunkRows, rows - start);
                var h = hidden.Span.Slice(start * features, n * features);
                Gemm.Multiply(false, true, n, classes, features, 1f, h, features, weight.Span, features, 0f, scratch.Span, classes);
                targets.Span.Slice(start, n).CopyTo(chunkTargets);
                e.Saved0!.Span.Slice(start, n).CopyTo(chunkLse);
                // The chunk's logits become its gradient in place: scale·(softmax − one-hot), 0 on ignored rows.
                var logits = scratch.Span.Slice(0, n * classes);
                for (int r = 0; r < n; r++)
                    if (chunkTargets[r] == ignore) logits.Slice(r * classes, classes).Clear();
                CrossEntropyKernel.SoftmaxGradientInPlace(scratch.Buffer, chunkTargets, n, classes, ignore, chunkLse, scale);
                if (!gh.IsEmpty)
                    Gemm.Multiply(false, false, n, features, classes, 1f, logits, classes, weight.Span, features, 1f, gh.Slice(start * features, n * features), features);
                if (!gw.IsEmpty)
                    Gemm.Multiply(true, false, classes, features, n, 1f, logits, classes, h, features, 1f, gw, features);
            }
        }
    }
}
