namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Inverted dropout: each element is zeroed with probability <paramref name="probability"/> and
    /// the rest scaled by 1/(1 − p), using <paramref name="random"/> so a run is reproducible. When
    /// not training or p is 0 the input itself is returned (no copy, nothing recorded).
    /// </summary>
    public static Tensor Dropout(Tensor x, float probability, SeededRandom random, bool training = true)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(random);
        if (!(probability >= 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), $"Dropout probability must be in [0, 1); got {probability}.");
        if (!training || probability == 0) return x;
        DropoutReplay.BeforeDraw(random);
        float keepScale = 1f / (1f - probability);
        var mask = Tensor.Uninitialized(x.Shape);
        var y = Tensor.Uninitialized(x.Shape);
        var ms = mask.Span;
        ReadOnlySpan<float> xs = x.Span;
        var ys = y.Span;
        for (int i = 0; i < ms.Length; i++)
        {
            ms[i] = random.NextFloat() < probability ? 0f : keepScale;
            ys[i] = xs[i] * ms[i];
        }
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = DropoutBackward.Instance, Output = y, A = x, Saved0 = mask });
        mask.RequestRelease();
        return y;
    }

    private sealed class DropoutBackward : IBackward
    {
        public static readonly DropoutBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.Saved0;

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (!gx.IsEmpty) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(e.Output.Grad!.Span, e.Saved0!.Span, gx, gx);
        }
    }
}
