namespace Peft.Tensors;

/// <summary>
/// When frozen weights are multiplied through a packed copy of themselves. By default a frozen weight gets its copy
/// (made on first use, kept until the weight changes) only for products of up to 64 rows: decoding, short prompts.
/// Longer products pack slices of the weight per call, so scoring or training over long inputs does not hold the
/// frozen weights twice in memory.
/// </summary>
public static class WeightPacking
{
    [ThreadStatic] private static int t_anyRowsDepth;

    /// <summary>True inside a <see cref="PackFrozenWeights"/> region on this thread.</summary>
    public static bool PacksFrozenWeights => t_anyRowsDepth > 0;

    /// <summary>
    /// Until the returned value is disposed (nestable, per thread), products of frozen weights use their packed copy
    /// whatever their row count, making it on first use. The copies cost each weight's size in memory once and are
    /// kept for later calls. Generators use this region: their few-row decode steps make every copy anyway, so the
    /// prompt pass before them gains the copies (and skips packing the weights per call) at no extra memory.
    /// </summary>
    public static PackingRegion PackFrozenWeights()
    {
        t_anyRowsDepth++;
        return new PackingRegion(true);
    }

    /// <summary>The region returned by <see cref="PackFrozenWeights"/>; dispose it to restore the default.</summary>
    public struct PackingRegion : IDisposable
    {
        private bool _active;

        internal PackingRegion(bool active) => _active = active;

        /// <summary>Ends the region.</summary>
        public void Dispose()
        {
            if (!_active) return;
            _active = false;
            t_anyRowsDepth--;
        }
    }
}
