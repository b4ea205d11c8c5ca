using Peft.Tensors.Kernels;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// <c>CrossEntropy(Linear(hidden, weight), targets)</c> without ever holding the [rows, classes]
    /// logits: forward goes through the classes in blocks with a running log-sum-exp per row
    /// (<see cref="VocabularyBlockedCrossEntropy"/>), holding one block of logits per thread. When
    /// the weight is frozen (a PEFT base's LM head) and a gradient is recorded, the gradient with
    /// respect to <paramref name="hidden"/> is accumulated in the same pass, so backward only scales
    /// it: the same two head products as the unchunked loss, without its two [rows, classes]
    /// tensors. A trainable weight instead has its logits recomputed in backward, in chunks of
    /// <paramref name="chunkRows"/> rows (one extra head product).
    /// </summary>
    /// <param name="hidden">[rows, features].</param>
    /// <param name="weight">[classes, features] (the LM head; may train).</param>
    /// <param name="targets">[rows] class per row; <paramref name="ignoreIndex"/> rows are skipped.</param>
    /// <param name="ignoreIndex">Target value to skip (-100).</param>
    /// <param name="chunkRows">Rows per chunk of a trainable weight's backward (scratch is chunkRows × classes floats).</param>
    /// <returns>The mean over non-ignored rows (NaN when every row is ignored), a scalar.</returns>
    public static Tensor LinearCrossEntropy(Tensor hidden, Tensor weight, IntTensor targets, int ignoreIndex = -100, int chunkRows = 256)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(targets);
        if (hidden.Rank != 2 || weight.Rank != 2 || hidden.Shape[1] != weight.Shape[1])
            throw ShapeError("LinearCrossEntropy",
                $"hidden {hidden.Shape} must be [rows, features] and weight {weight.Shape} [classes, features] with the same features.");
        int rows = hidden.Shape[0], features = hidden.Shape[1], classes = weight.Shape[0];
        if (targets.Shape.Rank != 1 || targets.Length != rows)
            throw ShapeError("LinearCrossEntropy", $"targets {targets.Shape} must be [{rows}].");
        if (chunkRows < 1) throw new ArgumentOutOfRangeException(nameof(chunkRows), $"chunkRows must be at least 1; got {chunkRows}.");
        targets.CheckRange("LinearCrossEntropy targets", classes, ignoreIndex);
        int count = 0;
        foreach (int t in targets.Span) if (t != ignoreIndex) count++;
        bool record = Tape.Needs(hidden, weight);
        // Frozen head: the gradient for hidden (for an upstream gradient of 1) is made in forward.
        bool gradientNow = record && count > 0 && !weight.RequiresGrad;
        var hiddenGradient = gradientNow ? Tensor.Uninitialized(hidden.Shape) : null;
        var terms = Tensor.Uninitialized(new Shape(rows));
        if (count > 0)
            VocabularyBlockedCrossEntropy.Run(hidden.Span, weight.Span, targets.Span, rows, features, classes, ignoreIndex, 1f / count,
                terms.Span, hiddenGradient is null ? default : hiddenGradient.Span);
        double total = 0;
        ReadOnlySpan<int> ts = targets.Span;
        ReadOnlySpan<float> termSpan = terms.Span;
        for (int r = 0; r < rows; r++)
            if (ts[r] != ignoreIndex) total += termSpan[r];
        terms.RequestRelease();
        var y = Tensor.Uninitialized(new Shape());
        y.Span[0] = count == 0 ? float.NaN : (float)(total / count);
        if (record)
            Tape.Record(new TapeEntry
            {
                Op = LinearCrossEntropyBackward.Instance, Output = y, A = hidden, B = weight, Saved0 = hiddenGradient, State = targets,
                Int0 = ignoreIndex, Int1 = count, Int2 = chunkRows,
            });
        hiddenGradient?.RequestRelease();
        return y;
    }

    /// <summary>One chunk's logits and per-row scratch, and the steps from hidden rows to logits and to gradients.</summary>
    private readonly struct ChunkBuffers(int rows, int classes)
    {
        public Tensor Logits { get; } = Tensor.Uninitialized(new Shape(rows, classes));

        public int[] Targets { get; } = new int[rows];

        public float[] Lse { get; } = new float[rows];

        public float[] Terms { get; } = new float[rows];

        /// <summary>Logits of hidden rows [start, start + n) and their targets into the buffers; returns those hidden rows.</summary>
        public ReadOnlySpan<float> ComputeLogits(Tensor hidden, Tensor weight, IntTensor targets, int start, int n)
        {
            int features = hidden.Shape[1];
            var h = hidden.Span.Slice(start * features, n * features);
            Gemm.Multiply(false, true, n, classes, features, 1f, h, features, weight.Span, features, 0f, Logits.Span, classes);
            targets.Span.Slice(start, n).CopyTo(Targets);
            return h;
        }

        /// <summary>
        /// From the chunk's logits: the loss terms and scale·(softmax − one-hot) in place in one pass
        /// (zero on ignored rows), then dHidden (written, or added when <paramref name="accumulate"/>)
        /// = dLogits·W and, where asked, dW += dLogitsᵀ·h.
        /// </summary>
        public void Gradients(ReadOnlySpan<float> h, Tensor weight, int n, int ignore, float scale, Span<float> hiddenGradient, bool accumulate,
            Span<float> weightGradient)
        {
            int features = weight.Shape[1];
            CrossEntropyKernel.ForwardWithGradientInPlace(Logits.Buffer, Targets, n, classes, ignore, Lse, Terms, scale);
            var logits = Logits.Span[..(n * classes)];
            if (!hiddenGradient.IsEmpty)
                Gemm.Multiply(false, false, n, features, classes, 1f, logits, classes, weight.Span, features, accumulate ? 1f : 0f, hiddenGradient, features);
            if (!weightGradient.IsEmpty)
                Gemm.Multiply(true, false, classes, features, n, 1f, logits, classes, h, features, 1f, weightGradient, features);
        }

        public void Release() => Logits.RequestRelease();
    }

    private sealed class LinearCrossEntropyBackward : IBackward
    {
        public static readonly LinearCrossEntropyBackward Instance = new();

        // With a gradient made in forward (Saved0) neither hidden nor the weight is read again.
        public TapeSlots Reads(in TapeEntry e) =>
            e.Saved0 is not null ? TapeSlots.Saved0 : TapeSlots.A | TapeSlots.B;

        public void Backward(ref TapeEntry e)
        {
            if (e.Int1 == 0) return;
            Tensor hidden = e.A!, weight = e.B!;
            float upstream = e.Output.Grad!.Span[0];
            var gh = Tape.GradOf(hidden);
            if (e.Saved0 is { } precomputed)
            {
                if (!gh.IsEmpty) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(precomputed.Span, upstream, gh, gh);
                return;
            }
            // A trainable head: each chunk's logits are recomputed (its log-sum-exp with them).
            var targets = (IntTensor)e.State!;
            int rows = hidden.Shape[0], features = hidden.Shape[1], classes = weight.Shape[0], chunkRows = e.Int2;
            var gw = Tape.GradOf(weight);
            var chunk = new ChunkBuffers(Math.Min(chunkRows, rows), classes);
            for (int start = 0; start < rows; start += chunkRows)
            {
                int n = Math.Min(chunkRows, rows - start);
                var h = chunk.ComputeLogits(hidden, weight, targets, start, n);
                chunk.Gradients(h, weight, n, e.Int0, upstream / e.Int1, gh.IsEmpty ? default : gh.Slice(start * features, n * features), accumulate: true, gw);
            }
            chunk.Release();
        }
    }
}
