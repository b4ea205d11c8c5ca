using System.Numerics.Tensors;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Takes the columns [start, start + heads·headDim) of <paramref name="x"/> [batch, length,
    /// width] and lays them out per attention head as [batch, heads, length, headDim], in one copy
    /// (the same as slicing, reshaping and permuting, which would copy twice and record three steps).
    /// </summary>
    /// <param name="x">[batch, length, width], e.g. a fused query/key/value projection.</param>
    /// <param name="start">First column taken.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="headDim">Columns per head.</param>
    public static Tensor SplitHeads(Tensor x, int start, int heads, int headDim)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3 || heads < 1 || headDim < 1 || start < 0 || start + heads * headDim > x.Shape[2])
            throw ShapeError("SplitHeads",
                $"input {x.Shape} must be [batch, length, width] with columns {start}..{start + heads * headDim} " +
                $"(heads {heads} × headDim {headDim}) inside width.");
        int batch = x.Shape[0], length = x.Shape[1], width = x.Shape[2];
        var y = Tensor.Uninitialized(new Shape(batch, heads, length, headDim));
        MoveHeadsTask.Run(x.Buffer, y.Buffer, batch, length, width, start, heads, headDim, toHeads: true);
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = HeadsBackward.Instance, Output = y, A = x, Int0 = start, Int1 = 1 });
        return y;
    }

    /// <summary>
    /// Merges attention heads [batch, heads, length, headDim] into [batch, length, heads·headDim]
    /// in one copy (the inverse of <see cref="SplitHeads"/> with start 0).
    /// </summary>
    public static Tensor MergeHeads(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4) throw ShapeError("MergeHeads", $"input {x.Shape} must be [batch, heads, length, headDim].");
        int batch = x.Shape[0], heads = x.Shape[1], length = x.Shape[2], headDim = x.Shape[3];
        var y = Tensor.Uninitialized(new Shape(batch, length, heads * headDim));
        MoveHeadsTask.Run(y.Buffer, x.Buffer, batch, length, heads * headDim, 0, heads, headDim, toHeads: false);
        if (Tape.Needs(x))
            Tape.Record(new TapeEntry { Op = HeadsBackward.Instance, Output = y, A = x, Int0 = 0, Int1 = 0 });
        return y;
    }

    /// <summary>
    /// Moves rows of headDim floats between the flat layout [batch, length, width] (columns from
    /// <paramref name="start"/>) and the head layout [batch, heads, length, headDim]: flat → heads
    /// when <paramref name="toHeads"/>, else heads → flat; adds instead of copying when <paramref name="accumulate"/>.
    /// </summary>
    private static void MoveHeads(Span<float> flat, Span<float> headLayout, int batch, int length, int width, int start, int heads, int headDim,
        bool toHeads, bool accumulate)
    {
        for (int pair = 0; pair < batch * heads; pair++)
            MoveHead(flat, headLayout, pair, length, width, start, heads, headDim, toHeads, accumulate);
    }

    /// <summary>The rows of one (batch row, head) pair, numbered b·heads + h, for <see cref="MoveHeads"/>.</summary>
    internal static void MoveHead(Span<float> flat, Span<float> headLayout, int pair, int length, int width, int start, int heads, int headDim,
        bool toHeads, bool accumulate)
    {
        int b = pair / heads, h = pair % heads;
        for (int t = 0; t < length; t++)
        {
            var flatRow = flat.Slice((b * length + t) * width + start + h * headDim, headDim);
            var headRow = headLayout.Slice((pair * length + t) * headDim, headDim);
            if (toHeads)
            {
                if (accumulate) TensorPrimitives.Add(headRow, flatRow, headRow);
                else flatRow.CopyTo(headRow);
            }
            else if (accumulate) TensorPrimitives.Add(flatRow, headRow, flatRow);
            else headRow.CopyTo(flatRow);
        }
    }

    private sealed class HeadsBackward : IBackward
    {
        public static readonly HeadsBackward Instance = new();

        public TapeSlots Reads(in TapeEntry e) => TapeSlots.None;

        public void Backward(ref TapeEntry e)
        {
            var gx = Tape.GradOf(e.A);
            if (gx.IsEmpty) return;
            var g = e.Output.Grad!.Span;
            if (e.Int1 == 1)
            {
                // Split: scatter the head-layout gradient back into the flat input's columns.
                var s = e.Output.Shape;
                MoveHeads(gx, g, s[0], s[2], e.A!.Shape[2], e.Int0, s[1], s[3], toHeads: false, accumulate: true);
            }
            else
            {
                var s = e.A!.Shape;
                MoveHeads(g, gx, s[0], s[2], s[1] * s[3], 0, s[1], s[3], toHeads: true, accumulate: true);
            }
        }
    }
}
