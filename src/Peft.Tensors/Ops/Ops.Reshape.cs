namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// The same elements under a new shape (no copy: the result shares the buffer). One
    /// dimension may be -1 and is inferred.
    /// </summary>
    public static Tensor Reshape(Tensor x, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        Span<int> dims = stackalloc int[shape.Length];
        shape.CopyTo(dims);
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1)
            {
                if (infer >= 0) throw ShapeError("Reshape", $"only one dimension may be -1; got [{string.Join(", ", shape.ToArray())}].");
                infer = i;
            }
            else known *= dims[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || x.Length % known != 0)
                throw ShapeError("Reshape", $"cannot infer -1 reshaping {x.Shape} ({x.Length} elements) to [{string.Join(", ", shape.ToArray())}].");
            dims[infer] = (int)(x.Length / known);
        }
        var target = new Shape(dims);
        if (target.ElementCount != x.Length)
            throw ShapeError("Reshape", $"cannot reshape {x.Shape} ({x.Length} elements) to {target} ({target.ElementCount} elements).");
        var y = x.ViewAs(target);
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = ReshapeBackward.Instance, Output = y, A = x });
        return y;
    }

    private sealed class ReshapeBackward : IBackward
    {
        public static readonly ReshapeBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (!gx.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Add(gx, e.Output.Grad!.Span, gx);
        }
    }
}
