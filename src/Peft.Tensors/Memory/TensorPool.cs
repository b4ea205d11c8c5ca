namespace Peft.Tensors;

/// <summary>
/// Recycles float buffers by exact length. Training repeats the same shapes every step, so after
/// the first step every intermediate buffer comes from here and the GC sees no new large arrays.
/// </summary>
public static class TensorPool
{
    private static readonly Dictionary<int, Stack<float[]>> s_free = new();
    private static readonly object s_lock = new();
    private static long s_pooledElements;

    /// <summary>Number of float elements currently held by the pool (not in use).</summary>
    public static long PooledElements
    {
        get { lock (s_lock) return s_pooledElements; }
    }

    /// <summary>Rents a buffer of exactly <paramref name="length"/> elements; its contents are undefined unless <paramref name="clear"/>.</summary>
    public static float[] Rent(int length, bool clear)
    {
        float[]? buffer = null;
        lock (s_lock)
        {
            if (s_free.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                buffer = stack.Pop();
                s_pooledElements -= length;
            }
        }
        if (buffer is null)
            return new float[length];
        if (clear)
            Array.Clear(buffer);
        return buffer;
    }

    /// <summary>Returns a buffer rented with <see cref="Rent"/>.</summary>
    public static void Return(float[] buffer)
    {
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
