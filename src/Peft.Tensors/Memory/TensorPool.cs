namespace Peft.Tensors;

/// <summary>
/// Recycles float buffers by size class (the length rounded up to at most 1/8 more). Training
/// repeats the same shapes every step, and decoding grows its attention tensors a row at a time:
/// either way, after warm-up every intermediate buffer comes from here and the GC sees no new large
/// arrays. A rented buffer can be longer than asked; tensors use only their shape's elements.
/// </summary>
public static class TensorPool
{
    private static readonly Dictionary<int, Stack<float[]>> s_free = new();
    private static readonly object s_lock = new();
    private static long s_pooledElements;
    [ThreadStatic] private static long t_rentedElements;
    [ThreadStatic] private static long t_peakRentedElements;

    /// <summary>Number of float elements currently held by the pool (not in use).</summary>
    public static long PooledElements
    {
        get { lock (s_lock) return s_pooledElements; }
    }

    /// <summary>Float elements rented by this thread and not yet returned (what its live intermediates hold).</summary>
    public static long RentedOnThisThread => t_rentedElements;

    /// <summary>The most elements this thread has held rented at once since <see cref="ResetPeakOnThisThread"/>.</summary>
    public static long PeakRentedOnThisThread => t_peakRentedElements;

    /// <summary>Starts a new peak measurement for <see cref="PeakRentedOnThisThread"/> from what is rented now.</summary>
    public static void ResetPeakOnThisThread() => t_peakRentedElements = t_rentedElements;

    /// <summary>
    /// Rents a buffer of at least <paramref name="length"/> elements (its size class); its contents
    /// are undefined unless <paramref name="clear"/>.
    /// </summary>
    public static float[] Rent(int length, bool clear)
    {
        int size = SizeClass(length);
        var buffer = Take(size, longest: size, out bool fresh);
        if (clear && !fresh) Array.Clear(buffer);
        return buffer;
    }

    /// <summary>
    /// Rents scratch that goes back before the operation that rents it returns (a loss's vocabulary blocks, a packed
    /// operand): when its size class is empty it may take an idle buffer up to <see cref="ScratchOverhang"/> times longer
    /// instead of allocating. Such a borrow cannot shift which sizes the pool holds (the buffer is back before anything
    /// else is rented), while at the peak of a training step (the loss, right after the forward) the forward's one-layer
    /// buffers sit idle. Contents undefined.
    /// </summary>
    public static float[] RentScratch(int length)
    {
        int size = SizeClass(length);
        return Take(size, longest: (long)size * ScratchOverhang, out _);
    }

    /// <summary>
    /// An idle buffer of class <paramref name="size"/>, else the shortest idle one up to <paramref name="longest"/>, else a
    /// new one of class <paramref name="size"/> (<paramref name="fresh"/>: zeroed); counted as rented on this thread.
    /// </summary>
    private static float[] Take(int size, long longest, out bool fresh)
    {
        float[]? buffer = null;
        lock (s_lock)
        {
            if (s_free.TryGetValue(size, out var own) && own.Count > 0) buffer = own.Pop();
            else if (longest > size) buffer = ShortestIdle(size, longest)?.Pop();
            if (buffer is not null) s_pooledElements -= buffer.Length;
        }
        fresh = buffer is null;
        buffer ??= new float[size];
        if ((t_rentedElements += buffer.Length) > t_peakRentedElements) t_peakRentedElements = t_rentedElements;
        return buffer;
    }

    /// <summary>The non-empty free list of the shortest class in (<paramref name="size"/>, <paramref name="longest"/>], or null (under the lock).</summary>
    private static Stack<float[]>? ShortestIdle(int size, long longest)
    {
        Stack<float[]>? from = null;
        int best = int.MaxValue;
        foreach (var (classLength, stack) in s_free)
            if (stack.Count > 0 && classLength > size && classLength <= longest && classLength < best)
                (best, from) = (classLength, stack);
        return from;
    }

    /// <summary>How many times longer than asked a buffer <see cref="RentScratch"/> takes may be.</summary>
    public const int ScratchOverhang = 4;

    /// <summary>Returns a buffer rented with <see cref="Rent"/> or <see cref="RentScratch"/>.</summary>
    public static void Return(float[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        t_rentedElements -= buffer.Length;
        lock (s_lock)
        {
            if (!s_free.TryGetValue(buffer.Length, out var stack))
            {
                stack = new Stack<float[]>();
                s_free[buffer.Length] = stack;
            }
            stack.Push(buffer);
            s_pooledElements += buffer.Length;
        }
    }

    /// <summary>The length rounded up to keep its top four bits (at most 1/8 more; 64 at least).</summary>
    internal static int SizeClass(int length)
    {
        if (length <= 64) return 64;
        int shift = 31 - System.Numerics.BitOperations.LeadingZeroCount((uint)length) - 3;
        long rounded = ((long)length + (1L << shift) - 1) >> shift << shift;
        return rounded > Array.MaxLength ? length : (int)rounded;
    }

    /// <summary>Drops every pooled buffer so the GC can reclaim it (e.g. after training ends).</summary>
    public static void Trim()
    {
        lock (s_lock)
        {
            s_free.Clear();
            s_pooledElements = 0;
        }
    }
}
