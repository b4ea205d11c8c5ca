namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Rows of <paramref name="table"/> [vocab, dim] picked by <paramref name="ids"/>: the result is
    /// ids.Shape + [dim]. An id outside [0, vocab) throws, naming it and its position.
    /// </summary>
    public static Tensor Embedding(IntTensor ids, Tensor table)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(table);
        if (table.Rank != 2) throw ShapeError("Embedding", $"table must be [vocab, dim]; got {table.Shape}.");
        int vocab = table.Shape[0], d = table.Shape[1];
        ids.CheckRange("Embedding ids", vocab);
        if (ids.Shape.Rank >= Shape.MaxRank) throw ShapeError("Embedding", $"ids of rank {ids.Shape.Rank} leave no room for the embedding dimension.");
        Span<int> dims = stackalloc int[ids.Shape.Rank + 1];
        for (int i = 0; i < ids.Shape.Rank; i++) dims[i] = ids.Shape[i];
        dims[^1] = d;
        var y = Tensor.Uninitialized(new Shape(dims));
        ReadOnlySpan<int> idx = ids.Span;
        ReadOnlySpan<float> t = table.Span;
        var ys = y.Span;
        for (int i = 0; i < idx.Length; i++) t.Slice(idx[i] * d, d).CopyTo(ys.Slice(i * d, d));
        if (Tape.Needs(table))
            Tape.Record(new TapeEntry { Op = EmbeddingBackward.Instance, Output = y, A = table, State = ids });
        return y;
    }

    private sealed class EmbeddingBackward : IBackward
    {
        public static readonly EmbeddingBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var gt = Tape.GradOf(e.A);
            if (gt.IsEmpty) return;
            int d = e.A!.Shape[1];
            ReadOnlySpan<int> idx = ((IntTensor)e.State!).Span;
            ReadOnlySpan<float> g = e.Output.Grad!.Span;
            for (int i = 0; i < idx.Length; i++)
            {
                var dst = gt.Slice(idx[i] * d, d);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, g.Slice(i * d, d), dst);
            }
        }
    }
}
