namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// <paramref name="times"/> copies of <paramref name="x"/> joined along axis 0 (e.g. one
    /// prompt [1, tokens, hidden] for every row of a batch); backward sums the copies' gradients.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="times"/> is less than 1.</exception>
    public static Tensor Repeat(Tensor x, int times)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank == 0) throw ShapeError("Repeat", "needs a tensor of rank 1 or more; got a scalar.");
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        if (times == 1) return x;
        var y = Tensor.Uninitialized(x.Shape.With(0, checked(x.Shape[0] * times)));
        ReadOnlySpan<float> xs = x.Span;
        var ys = y.Span;
        for (int i = 0; i < times; i++) xs.CopyTo(ys.Slice(i * xs.Length, xs.Length));
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = RepeatBackward.Instance, Output = y, A = x, Int0 = times });
        return y;
    }

    private sealed class RepeatBackward : IBackward
    {
        public static readonly RepeatBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (gx.IsEmpty) return;
            ReadOnlySpan<float> g = e.Output.Grad!.Span;
            for (int i = 0; i < e.Int0; i++)
                System.Numerics.Tensors.TensorPrimitives.Add(gx, g.Slice(i * gx.Length, gx.Length), gx);
        }
    }
}
