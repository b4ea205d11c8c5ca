namespace Peft.Tensors;

/// <summary>
/// The per-thread record of differentiable operations, in execution order. Reverse execution
/// order is a valid topological order, so backward is a single reverse sweep.
/// </summary>
internal static class Tape
{
    [ThreadStatic] private static List<TapeEntry>? t_entries;
    [ThreadStatic] private static int t_noGradDepth;

    public static int Count => t_entries?.Count ?? 0;

    public static bool GradEnabled => t_noGradDepth == 0;

    public static void EnterNoGrad() => t_noGradDepth++;

    public static void ExitNoGrad() => t_noGradDepth--;

    /// <summary>True when an operation on these inputs must be recorded.</summary>
    public static bool Needs(Tensor? a, Tensor? b = null, Tensor? c = null, Tensor? d = null) =>
        t_noGradDepth == 0 &&
        ((a?.RequiresGrad ?? false) || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false) || (d?.RequiresGrad ?? false));

    /// <summary>Records an entry; marks its output as a non-leaf that requires gradients.</summary>
    public static void Record(in TapeEntry entry)
    {
        entry.Output.IsLeaf = false;
        entry.Output.RequiresGrad = true;
        (t_entries ??= new List<TapeEntry>(256)).Add(entry);
    }

    /// <summary>The gradient buffer of <paramref name="t"/>, zeroed on first use, or an empty span if it needs none.</summary>
    public static Span<float> GradOf(Tensor? t) =>
        t is { RequiresGrad: true } ? t.EnsureGrad().Span : default;

    /// <summary>
    /// Runs <paramref name="action"/> with a fresh, empty tape and recording on, then puts the
    /// caller's tape and no-grad depth back (gradient checkpointing recomputes a layer this way in
    /// the middle of an outer backward pass).
    /// </summary>
    public static void RunNested(Action action)
    {
        var outer = t_entries;
        int depth = t_noGradDepth;
        t_entries = new List<TapeEntry>(64);
        t_noGradDepth = 0;
        try
        {
            action();
        }
        finally
        {
            t_entries = outer;
            t_noGradDepth = depth;
        }
    }

    public static void TruncateTo(int count)
    {
        var entries = t_entries;
        if (entries is null || entries.Count <= count) return;
        entries.RemoveRange(count, entries.Count - count);
    }

    public static void Backward(Tensor root, Tensor? gradient)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward() called on {root}, which does not require gradients: no parameter it depends on has RequiresGrad set (or it was computed under NoGrad).");
        if (gradient is null)
        {
            if (root.Length != 1)
                throw new ArgumentException($"Backward() without a gradient needs a one-element tensor; {root} has {root.Length} elements.", nameof(gradient));
            root.EnsureGrad().Span[0] += 1f;
        }
        else
        {
            Tensor.CheckSameShape("Backward", root, gradient);
            var g = root.EnsureGrad().Span;
            System.Numerics.Tensors.TensorPrimitives.Add(g, gradient.Span, g);
        }

        var entries = t_entries;
        if (entries is null) return;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries);
        // Operations run with grad recording off: backward kernels are plain computations.
        t_noGradDepth++;
        try
        {
            for (int i = span.Length - 1; i >= 0; i--)
            {
                ref var e = ref span[i];
                if (e.Output.Grad is null) continue;
                e.Op.Backward(ref e);
                // Intermediate gradients are dead once propagated (ops with several inputs, like
                // Concat, record consecutive entries sharing one output: keep it for the rest).
                if (!e.Output.IsLeaf && (i == 0 || !ReferenceEquals(span[i - 1].Output, e.Output)))
                {
                    // A pooled gradient goes back to the pool now (its scope's later return is a
                    // no-op), so the rest of backward reuses it: backward's peak stays near one layer's.
                    e.Output.Grad?.ReturnToPool();
                    e.Output.Grad = null;
                }
            }
        }
        finally
        {
            t_noGradDepth--;
            entries.Clear();
        }
    }
}
