namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// A multi-layer, optionally bidirectional LSTM over a batch-first sequence, as
    /// <c>torch.nn.LSTM(batch_first=True)</c> with zero initial states (P-tuning's prompt encoder).
    /// </summary>
    /// <param name="input">[batch, length, inputSize].</param>
    /// <param name="layers">Per layer, the forward direction then (if bidirectional) the reverse one.</param>
    /// <param name="bidirectional">Run a reverse direction and concatenate [forward, reverse] outputs on the last axis.</param>
    /// <returns>[batch, length, hidden·directions].</returns>
    public static Tensor Lstm(Tensor input, IReadOnlyList<LstmWeights> layers, bool bidirectional)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(layers);
        int directions = bidirectional ? 2 : 1;
        if (input.Rank != 3) throw ShapeError("Lstm", $"input must be [batch, length, features]; got {input.Shape}.");
        if (layers.Count == 0 || layers.Count % directions != 0)
            throw ShapeError("Lstm", $"got {layers.Count} weight sets; need a positive multiple of {directions} (one per layer and direction).");
        var x = input;
        for (int l = 0; l < layers.Count / directions; l++)
        {
            var outputs = new Tensor[directions];
            for (int dir = 0; dir < directions; dir++)
            {
                var w = layers[l * directions + dir];
                CheckLstmWeights(w, x.Shape[2], l, dir);
                outputs[dir] = LstmDirection(x, w, reverse: dir == 1);
            }
            x = directions == 1 ? outputs[0] : Concat(outputs, 2);
        }
        return x;
    }

    private static void CheckLstmWeights(LstmWeights w, int inputSize, int layer, int direction)
    {
        int h = w.WeightHiddenHidden.Rank == 2 ? w.WeightHiddenHidden.Shape[1] : -1;
        string where = $"layer {layer}{(direction == 1 ? " reverse" : "")}";
        if (h <= 0 || w.WeightHiddenHidden.Shape[0] != 4 * h)
            throw ShapeError("Lstm", $"{where}: weight_hh {w.WeightHiddenHidden.Shape} must be [4·H, H].");
        if (w.WeightInputHidden.Rank != 2 || w.WeightInputHidden.Shape[0] != 4 * h || w.WeightInputHidden.Shape[1] != inputSize)
            throw ShapeError("Lstm", $"{where}: weight_ih {w.WeightInputHidden.Shape} must be [{4 * h}, {inputSize}].");
        foreach (var b in new[] { w.BiasInputHidden, w.BiasHiddenHidden })
            if (b is not null && (b.Rank != 1 || b.Shape[0] != 4 * h))
                throw ShapeError("Lstm", $"{where}: bias {b.Shape} must be [{4 * h}].");
    }

    // Built from differentiable ops, so back-propagation through time comes from the tape.
    private static Tensor LstmDirection(Tensor x, LstmWeights w, bool reverse)
    {
        int batch = x.Shape[0], length = x.Shape[1], h = w.HiddenSize;
        var projected = Linear(x, w.WeightInputHidden, w.BiasInputHidden); // [B, T, 4H] for all steps at once
        Tensor hidden = Tensor.Zeros(new Shape(batch, h));
        Tensor cell = Tensor.Zeros(new Shape(batch, h));
        var steps = new Tensor[length];
        for (int s = 0; s < length; s++)
        {
            int t = reverse ? length - 1 - s : s;
            var gates = Add(Reshape(Slice(projected, 1, t, 1), batch, 4 * h), Linear(hidden, w.WeightHiddenHidden, w.BiasHiddenHidden));
            var i = Sigmoid(Slice(gates, 1, 0, h));
            var f = Sigmoid(Slice(gates, 1, h, h));
            var g = Tanh(Slice(gates, 1, 2 * h, h));
            var o = Sigmoid(Slice(gates, 1, 3 * h, h));
            cell = Add(Multiply(f, cell), Multiply(i, g));
            hidden = Multiply(o, Tanh(cell));
            steps[t] = Reshape(hidden, batch, 1, h);
        }
        return Concat(steps, 1);
    }
}
