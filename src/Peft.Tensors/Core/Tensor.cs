using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Peft.Tensors;

/// <summary>
/// A dense, row-major, contiguous float32 tensor that can take part in reverse-mode automatic
/// differentiation. Tensors created inside a <see cref="TensorScope"/> borrow pooled buffers that
/// are released when the scope ends; tensors created outside any scope (parameters, results the
/// caller keeps) own ordinary arrays.
/// </summary>
public sealed class Tensor
{
    private float[]? _data;
    private readonly Tensor? _viewOf;
    private bool _requiresGrad;

    private Tensor(float[] data, Shape shape, bool pooled, Tensor? viewOf = null)
    {
        _data = viewOf is null ? data : null;
        _viewOf = viewOf;
        Shape = shape;
        IsPooled = pooled;
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; private set; }

    /// <summary>Number of elements.</summary>
    public int Length => Shape.ElementCount;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>An optional name used in error messages and when saving.</summary>
    public string? Name { get; set; }

    /// <summary>True when the buffer is borrowed from <see cref="TensorPool"/> by the current scope.</summary>
    public bool IsPooled { get; private set; }

    /// <summary>The tensor whose buffer this reshaped view shares, if any.</summary>
    internal Tensor? ViewOf => _viewOf;

    /// <summary>True for tensors that were not produced by a recorded operation (inputs, parameters).</summary>
    public bool IsLeaf { get; internal set; } = true;

    /// <summary>
    /// Whether gradients flow to this tensor. Set it on leaf tensors (trainable parameters);
    /// results of operations get it automatically when any input has it. A frozen parameter
    /// (false) never gets a gradient buffer.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!IsLeaf && !value)
                throw new InvalidOperationException("RequiresGrad can only be cleared on leaf tensors; use Detach() to cut a result from the graph.");
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient, or null before any backward pass reached this tensor.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>Counts <see cref="MarkModified"/> calls; caches derived from the values compare it.</summary>
    internal int Version { get; private set; }

    /// <summary>A form of the values derived and owned by kernels (a packed frozen weight), checked against <see cref="Version"/>.</summary>
    internal object? DerivedCache { get; set; }

    /// <summary>
    /// Call after changing <see cref="Span"/> in place (merging an adapter, loading or updating
    /// values) so copies derived from the old values, such as the packed form of a frozen weight
    /// that <c>Ops.Linear</c> keeps, are rebuilt before their next use.
    /// </summary>
    public void MarkModified() => Version++;

    /// <summary>The elements, row-major.</summary>
    public Span<float> Span => Buffer.AsSpan(0, Shape.ElementCount);

    /// <summary>The underlying array (may be longer than <see cref="Length"/> only for views created by reshaping).</summary>
    internal float[] Buffer =>
        _viewOf is not null ? _viewOf.Buffer : _data ?? throw new ObjectDisposedException(nameof(Tensor),
            $"Tensor{(Name is null ? "" : " '" + Name + "'")} of shape {Shape} was released " +
            "(its TensorScope ended, or TensorScope.Release gave it back early); call TensorScope.Keep on results used afterwards.");

    /// <summary>A reference to the first element, for kernels.</summary>
    internal ref float Ref0 => ref MemoryMarshal.GetArrayDataReference(Buffer);

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Length != 1)
            throw new InvalidOperationException($"Item() needs a tensor with one element; this one has shape {Shape}.");
        return Buffer[0];
    }

    /// <summary>Copies the elements to a new array.</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>The element at the given multi-dimensional index (slow; for tests and debugging).</summary>
    public float GetAt(params ReadOnlySpan<int> index) => Buffer[FlatIndex(index)];

    private int FlatIndex(ReadOnlySpan<int> index)
    {
        if (index.Length != Rank)
            throw new ArgumentException($"Index of rank {index.Length} used on a tensor of shape {Shape}.", nameof(index));
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)Shape[i])
                throw new ArgumentOutOfRangeException(nameof(index), $"Index {index[i]} is out of range for dimension {i} of shape {Shape}.");
            flat = flat * Shape[i] + index[i];
        }
        return flat;
    }

    // ---- creation -------------------------------------------------------------------------

    /// <summary>
    /// A tensor with undefined contents (pooled inside a scope). Kernels that write every
    /// element use this to avoid clearing memory twice.
    /// </summary>
    internal static Tensor Uninitialized(Shape shape) => Create(shape, clear: false);

    private static Tensor Create(Shape shape, bool clear)
    {
        if (TensorScope.IsActive)
        {
            var t = new Tensor(TensorPool.Rent(shape.ElementCount, clear), shape, pooled: true);
            TensorScope.Adopt(t);
            return t;
        }
        return new Tensor(new float[shape.ElementCount], shape, pooled: false);
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape) => Create(shape, clear: true);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, float value)
    {
        var t = Create(shape, clear: false);
        t.Span.Fill(value);
        return t;
    }

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(Shape shape) => Full(shape, 1f);

    /// <summary>A scalar (rank 0) tensor.</summary>
    public static Tensor Scalar(float value) => Full(new Shape(), value);

    /// <summary>A tensor holding a copy of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The number of values does not match the shape.</exception>
    public static Tensor FromSpan(ReadOnlySpan<float> values, Shape shape)
    {
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"Tensor.FromSpan got {values.Length} values for shape {shape}, which needs {shape.ElementCount}.", nameof(values));
        var t = Create(shape, clear: false);
        values.CopyTo(t.Span);
        return t;
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(float[] values, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        return FromSpan(values, new Shape(shape));
    }

    /// <summary>
    /// Wraps <paramref name="values"/> without copying; the tensor and the array share memory.
    /// The array must hold at least as many elements as the shape.
    /// </summary>
    public static Tensor Wrap(float[] values, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length < shape.ElementCount)
            throw new ArgumentException(
                $"Tensor.Wrap got an array of {values.Length} elements for shape {shape}, which needs {shape.ElementCount}.", nameof(values));
        return new Tensor(values, shape, pooled: false);
    }

    /// <summary>A trainable parameter: a copy of <paramref name="values"/> with <see cref="RequiresGrad"/> set, never pooled.</summary>
    public static Tensor Parameter(ReadOnlySpan<float> values, Shape shape, string? name = null)
    {
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"Parameter '{name}' got {values.Length} values for shape {shape}, which needs {shape.ElementCount}.", nameof(values));
        var data = new float[shape.ElementCount];
        values.CopyTo(data);
        return new Tensor(data, shape, pooled: false) { RequiresGrad = true, Name = name };
    }

    /// <summary>A copy that is not part of any graph and does not require gradients.</summary>
    public Tensor Detach()
    {
        var t = Create(Shape, clear: false);
        Span.CopyTo(t.Span);
        return t;
    }

    /// <summary>Same data, new shape, sharing the buffer. Used by <c>Ops.Reshape</c>.</summary>
    internal Tensor ViewAs(Shape shape)
    {
        if (shape.ElementCount != Length)
            throw new ArgumentException(
                $"Cannot view a tensor of shape {Shape} ({Length} elements) as {shape} ({shape.ElementCount} elements).", nameof(shape));
        return new Tensor(Buffer, shape, pooled: false, viewOf: _viewOf ?? this);
    }

    // ---- autograd -------------------------------------------------------------------------

    /// <summary>
    /// Back-propagates from this tensor through every operation recorded since the last backward
    /// pass, accumulating into <see cref="Grad"/> of each tensor that requires gradients. With no
    /// argument the tensor must have one element and its gradient is taken as 1.
    /// </summary>
    public void Backward(Tensor? gradient = null) => Tape.Backward(this, gradient);

    /// <summary>
    /// Sets the gradient to null (the next backward pass starts from zero). The buffer is kept
    /// and reused, zeroed, by the next backward pass, so training loops do not reallocate it.
    /// </summary>
    public void ZeroGrad()
    {
        if (Grad is { IsPooled: false } g && g.Shape == Shape) _spareGrad = g;
        Grad = null;
    }

    private Tensor? _spareGrad;

    /// <summary>
    /// The gradient buffer, created zeroed on first use with the same pooling as this tensor.
    /// </summary>
    internal Tensor EnsureGrad()
    {
        if (Grad is null)
        {
            // Intermediates (pooled tensors, views of them, and any op result, e.g. a reshaped view
            // of a parameter) have gradients that die once propagated: pool those too.
            if ((IsPooled || _viewOf is { IsPooled: true } || !IsLeaf) && TensorScope.IsActive) Grad = Zeros(Shape);
            else if (_spareGrad is { } spare)
            {
                spare.Span.Clear();
                Grad = spare;
                _spareGrad = null;
            }
            else Grad = new Tensor(new float[Length], Shape, pooled: false);
        }
        return Grad;
    }

    /// <summary>How many recorded backward steps still read this buffer's values (counted on the buffer's owner, never a view).</summary>
    internal int BackwardReaders { get; set; }

    /// <summary>Set by <see cref="TensorScope.Release"/>: return the buffer once <see cref="BackwardReaders"/> drops to zero.</summary>
    internal bool ReleaseRequested { get; private set; }

    /// <summary>
    /// Gives the buffer (a view's: its owner's) back to the pool as soon as no recorded backward
    /// step reads it: at once when none does, else when the last one has run.
    /// </summary>
    internal void RequestRelease()
    {
        var owner = _viewOf ?? this;
        if (!owner.IsPooled) return;
        owner.ReleaseRequested = true;
        if (owner.BackwardReaders == 0) owner.ReturnToPool();
    }

    internal void ReturnToPool()
    {
        if (!IsPooled || _data is null) return;
        TensorPool.Return(_data);
        _data = null;
    }

    internal void ReleaseFromPool()
    {
        IsPooled = false;
        if (Grad is { IsPooled: true } g) TensorScope.Keep(g);
    }

    /// <summary>Describes the shape (and name).</summary>
    public override string ToString() => $"Tensor{(Name is null ? "" : " '" + Name + "'")} {Shape}";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CheckSameShape(string op, Tensor a, Tensor b)
    {
        if (a.Shape != b.Shape)
            throw new ArgumentException($"{op}: shapes {a.Shape} and {b.Shape} must be equal.");
    }
}
