namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Gradient checkpointing: runs <paramref name="layer"/> without keeping its intermediate
    /// tensors (they go back to the pool at once) and recomputes them during backward, trading one
    /// extra forward pass of the layer for activation memory. Gradients are the same as without it;
    /// dropout inside the layer draws the same masks when recomputed.
    /// </summary>
    /// <param name="layer">A deterministic function from <paramref name="input"/> to a tensor of the same shape (a transformer block).</param>
    /// <param name="input">The layer's input.</param>
    /// <param name="sideInputs">
    /// Other tensors with gradients the layer reads and that were computed by earlier operations
    /// (e.g. a prefix's keys and values): their gradient buffers must outlive the recomputation.
    /// Trainable parameters (leaf tensors) need not be listed.
    /// </param>
    public static Tensor Checkpoint(Func<Tensor, Tensor> layer, Tensor input, IReadOnlyList<Tensor>? sideInputs = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(input);
        if (!Tape.GradEnabled) return layer(input);
        var output = Tensor.Uninitialized(input.Shape);
        int before = Tape.Count;
        bool recorded = false;
        var log = DropoutReplay.Record(() =>
        {
            // The nested scope returns every intermediate (and truncates their tape entries) at once.
            using var scope = new TensorScope();
            var result = layer(input);
            if (result.Shape != input.Shape)
                throw new ArgumentException($"Checkpoint: the layer must keep its input's shape {input.Shape}; it returned {result.Shape}.", nameof(layer));
            result.Span.CopyTo(output.Span);
            recorded = Tape.Count > before;
        });
        if (recorded)
            Tape.Record(new TapeEntry { Op = CheckpointBackward.Instance, Output = output, A = input, State = new CheckpointState(layer, log, sideInputs) });
        return output;
    }

    private sealed record CheckpointState(Func<Tensor, Tensor> Layer, List<(SeededRandom Random, (uint, uint, uint, uint) State)> DropoutLog,
        IReadOnlyList<Tensor>? SideInputs);

    private sealed class CheckpointBackward : IBackward
    {
        public static readonly CheckpointBackward Instance = new();

        public void Backward(ref TapeEntry e)
        {
            var state = (CheckpointState)e.State!;
            var input = e.A!;
            var gradient = e.Output.Grad!;
            // Gradient buffers of tensors from outside the layer are created here, in the outer
            // scope, so the recomputation's scope does not take them back to the pool.
            var inputGrad = input.RequiresGrad ? input.EnsureGrad() : null;
            if (state.SideInputs is not null)
                foreach (var side in state.SideInputs) Tape.GradOf(side);
            Tape.RunNested(() =>
            {
                using var scope = new TensorScope();
                var x = Tensor.Uninitialized(input.Shape);
                input.Span.CopyTo(x.Span);
                x.RequiresGrad = input.RequiresGrad;
                Tensor? y = null;
                DropoutReplay.Replay(state.DropoutLog, () => y = state.Layer(x));
                if (!y!.RequiresGrad) return;
                y.Backward(gradient);
                if (inputGrad is not null && x.Grad is not null)
                    System.Numerics.Tensors.TensorPrimitives.Add(inputGrad.Span, x.Grad.Span, inputGrad.Span);
            });
        }
    }
}
