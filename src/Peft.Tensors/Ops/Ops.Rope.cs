namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Rotary position embedding in Hugging Face Llama's "rotate half" layout:
    /// x·cos + rotate_half(x)·sin, where the angle of pair i (dimensions i and i + D/2) at
    /// position p is p·θ^(−2i/D), computed in float32 as HF does.
    /// </summary>
    /// <param name="x">[batch, heads, length, D] with D even.</param>
    /// <param name="positionIds">[batch, length].</param>
    /// <param name="theta">rope_theta (10000 for Llama 2).</param>
    public static Tensor ApplyRope(Tensor x, IntTensor positionIds, float theta)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(positionIds);
        if (x.Rank != 4 || x.Shape[3] % 2 != 0)
            throw ShapeError("ApplyRope", $"input {x.Shape} must be [batch, heads, length, even headDim].");
        int b = x.Shape[0], h = x.Shape[1], t = x.Shape[2], d = x.Shape[3];
        if (positionIds.Shape.Rank != 2 || positionIds.Shape[0] != b || positionIds.Shape[1] != t)
            throw ShapeError("ApplyRope", $"position ids {positionIds.Shape} must be [{b}, {t}] for input {x.Shape}.");
        if (!(theta > 0)) throw ShapeError("ApplyRope", $"theta must be positive; got {theta}.");
        var table = RopeTable(positionIds, theta, d);
        var y = Tensor.Uninitialized(x.Shape);
        Rotate(x.Span, table.Span, y.Span, b, h, t, d, inverse: false, accumulate: false);
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = RopeBackward.Instance, Output = y, A = x, Saved0 = table });
        return y;
    }

    /// <summary>cos and sin of every (row, position, pair): [batch, length, 2, D/2].</summary>
    private static Tensor RopeTable(IntTensor positionIds, float theta, int d)
    {
        int half = d / 2;
        Span<float> invFreq = stackalloc float[half];
        for (int i = 0; i < half; i++)
        {
            // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all float32.
            float exponent = (2 * i) / (float)d;
            invFreq[i] = 1f / MathF.Pow(theta, exponent);
        }
        var pos = positionIds.Span;
        var table = Tensor.Uninitialized(new Shape(pos.Length, 2, half));
        var ts = table.Span;
        for (int n = 0; n < pos.Length; n++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = pos[n] * invFreq[i];
                ts[n * d + i] = (float)Math.Cos(angle);
                ts[n * d + half + i] = (float)Math.Sin(angle);
            }
        }
        return table;
    }

    private static void Rotate(ReadOnlySpan<float> x, ReadOnlySpan<float> table, Span<float> y, int b, int h, int t, int d, bool inverse, bool accumulate)
    {
        int half = d / 2;
        for (int bi = 0; bi < b; bi++)
        {
            for (int hi = 0; hi < h; hi++)
            {
                for (int ti = 0; ti < t; ti++)
                {
                    int row = ((bi * h + hi) * t + ti) * d;
                    int n = (bi * t + ti) * d;
                    for (int i = 0; i < half; i++)
                    {
                        float c = table[n + i], s = table[n + half + i];
                        if (inverse) s = -s;
                        float x1 = x[row + i], x2 = x[row + half + i];
                        float r1 = x1 * c - x2 * s, r2 = x2 * c + x1 * s;
                        if (accumulate) { y[row + i] += r1; y[row + half + i] += r2; }
                        else { y[row + i] = r1; y[row + half + i] = r2; }
                    }
                }
            }
        }
    }

    private sealed class RopeBackward : IBackward
    {
        public static readonly RopeBackward Instance = new();

        // Rotation is linear: backward rotates the gradient back with the table alone.
        public TapeSlots Reads(in TapeEntry e) => TapeSlots.Saved0;

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (gx.IsEmpty) return;
            var s = e.A!.Shape;
            // A rotation's gradient is the opposite rotation.
            Rotate(e.Output.Grad!.Span, e.Saved0!.Span, gx, s[0], s[1], s[2], s[3], inverse: true, accumulate: true);
        }
    }
}
