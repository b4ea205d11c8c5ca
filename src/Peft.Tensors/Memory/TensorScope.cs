namespace Peft.Tensors;

/// <summary>
/// A region (typically one training or generation step) whose intermediate tensors borrow their
/// buffers from <see cref="TensorPool"/> and give them back when the scope is disposed. Tensors
/// created while a scope is active belong to it; use <see cref="Keep"/> to take one out.
/// Scopes nest and are per thread. Disposing also drops the autograd records made inside.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;
    [ThreadStatic] private static List<Tensor>? t_owned;

    private readonly TensorScope? _parent;
    private readonly int _ownedStart;
    private readonly int _tapeStart;
    private bool _disposed;

    /// <summary>Begins a scope on the current thread.</summary>
    public TensorScope()
    {
        _parent = t_current;
        t_owned ??= new List<Tensor>(1024);
        _ownedStart = t_owned.Count;
        _tapeStart = Tape.Count;
        t_current = this;
    }

    /// <summary>The innermost active scope of this thread, or null.</summary>
    public static TensorScope? Current => t_current;

    internal static bool IsActive => t_current is not null;

    /// <summary>Registers a pooled tensor with the current scope.</summary>
    internal static void Adopt(Tensor tensor) => t_owned!.Add(tensor);

    /// <summary>
    /// Takes <paramref name="tensor"/> out of the scope: its buffer is no longer returned to the
    /// pool, so it stays valid after the scope ends. Returns the same tensor.
    /// </summary>
    public static Tensor Keep(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var owned = t_owned;
        if (tensor.ViewOf is { } viewed) Keep(viewed);
        if (owned is null || !tensor.IsPooled) return tensor;
        for (int i = owned.Count - 1; i >= 0; i--)
        {
            if (ReferenceEquals(owned[i], tensor))
            {
                owned.RemoveAt(i);
                tensor.ReleaseFromPool();
                return tensor;
            }
        }
        throw new InvalidOperationException("The tensor belongs to a scope of another thread or was already released.");
    }

    /// <summary>
    /// Declares that the caller will not read <paramref name="tensor"/>'s values again, so its
    /// buffer can go back to the pool before the scope ends: at once when no recorded backward
    /// step reads it (a frozen linear layer's input, anything computed under NoGrad), otherwise
    /// right after the last such step has run during <see cref="Tensor.Backward"/>. Gradients
    /// still flow through it. A view releases the tensor it views. Tensors that are not pooled
    /// (parameters, tensors made outside a scope or kept) are left alone.
    /// </summary>
    /// <remarks>
    /// Model code calls this on the intermediates of each layer, which is what lets a training step
    /// hold only the activations backward needs instead of every activation of the forward pass.
    /// </remarks>
    public static void Release(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.RequestRelease();
    }

    /// <summary>Returns every buffer of the tensors created in this scope to the pool.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (!ReferenceEquals(t_current, this))
            throw new InvalidOperationException("TensorScopes must be disposed in the reverse order they were created, on the thread that created them.");
        _disposed = true;
        Tape.TruncateTo(_tapeStart);
        var owned = t_owned!;
        for (int i = owned.Count - 1; i >= _ownedStart; i--)
            owned[i].ReturnToPool();
        owned.RemoveRange(_ownedStart, owned.Count - _ownedStart);
        t_current = _parent;
    }
}
