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
        var recorded = entry;
        recorded.Reads = entry.Op.Reads(entry);
        CountReaders(recorded, +1);
        (t_entries ??= new List<TapeEntry>(256)).Add(recorded);
    }

    /// <summary>
    /// Adds <paramref name="delta"/> to the reader count of every buffer the entry's backward reads;
    /// a buffer whose owner released it goes back to the pool when its count reaches zero.
    /// </summary>
    private static void CountReaders(in TapeEntry e, int delta)
    {
        var reads = e.Reads;
        if (reads == TapeSlots.None) return;
        if ((reads & TapeSlots.Output) != 0) CountReader(e.Output, delta);
        if ((reads & TapeSlots.A) != 0) CountReader(e.A, delta);
        if ((reads & TapeSlots.B) != 0) CountReader(e.B, delta);
        if ((reads & TapeSlots.C) != 0) CountReader(e.C, delta);
        if ((reads & TapeSlots.D) != 0) CountReader(e.D, delta);
        if ((reads & TapeSlots.Saved0) != 0) CountReader(e.Saved0, delta);
        if ((reads & TapeSlots.Saved1) != 0) CountReader(e.Saved1, delta);
        if ((reads & TapeSlots.Saved2) != 0) CountReader(e.Saved2, delta);
    }

    private static void CountReader(Tensor? t, int delta)
    {
        if (t is null) return;
        var owner = t.ViewOf ?? t;
        // Only pooled buffers are ever released early; parameters are not counted at all.
        if (!owner.IsPooled) return;
        owner.BackwardReaders += delta;
        if (owner.BackwardReaders == 0 && owner.ReleaseRequested) owner.ReturnToPool();
    }

    /// <summary>
    /// Lets an elementwise backward write its input's gradient over its output's: when the output's gradient dies after
    /// this entry and input A is an intermediate with no gradient yet, A takes the output's gradient buffer (same shape)
    /// and the caller overwrites it in place, instead of zeroing a fresh buffer of the same size and adding into it.
    /// Returns whether A.Grad now holds the output's gradient.
    /// </summary>
    public static bool TryHandGradientToA(ref TapeEntry e)
    {
        var a = e.A;
        var g = e.Output.Grad;
        if (!e.OutputGradientDies || a is null || !a.RequiresGrad || a.IsLeaf || a.Grad is not null || g is null || !g.IsPooled || g.Shape != a.Shape)
            return false;
        a.Grad = g;
        e.Output.Grad = null;
        return true;
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
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries);
        for (int i = span.Length - 1; i >= count; i--) CountReaders(span[i], -1);
        entries.RemoveRange(count, entries.Count - count);
    }

    public static void Backward(Tensor root, Tensor? gradient)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException(
                $"Backward() called on {root}, which does not require gradients: no parameter it depends on has RequiresGrad set " +
                "(or it was computed under NoGrad).");
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
        int next = span.Length - 1;
        try
        {
            for (; next >= 0; next--)
            {
                ref var e = ref span[next];
                if (e.Output.Grad is null)
                {
                    CountReaders(e, -1);
                    continue;
                }
                // Intermediate gradients are dead once propagated (ops with several inputs, like
                // Concat, record consecutive entries sharing one output: keep it for the rest).
                e.OutputGradientDies = !e.Output.IsLeaf && (next == 0 || !ReferenceEquals(span[next - 1].Output, e.Output));
                e.Op.Backward(ref e);
                // Buffers released by their owner go back to the pool once their last reader has run.
                CountReaders(e, -1);
                if (e.OutputGradientDies)
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
            // After an exception, the entries not yet run give up their reads too.
            for (; next >= 0; next--) CountReaders(span[next], -1);
            entries.Clear();
        }
    }
}
