namespace Peft.Tensors.Threading;

/// <summary>
/// A unit of parallel work split into <c>count</c> independent pieces. Kernels keep one reusable
/// instance per thread and set its fields before each run, so running work allocates nothing.
/// </summary>
public abstract class ParallelTask
{
    /// <summary>Does piece <paramref name="index"/>; called once for each index, from any worker.</summary>
    public abstract void Execute(int index);
}
