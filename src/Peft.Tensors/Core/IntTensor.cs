namespace Peft.Tensors;

/// <summary>
/// A dense row-major tensor of 32-bit integers: token ids, labels, positions, task ids. It never
/// takes part in autograd.
/// </summary>
public sealed class IntTensor
{
    private readonly int[] _data;

    private IntTensor(int[] data, Shape shape)
    {
        _data = data;
        Shape = shape;
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Shape.ElementCount;

    /// <summary>The elements, row-major.</summary>
    public Span<int> Span => _data.AsSpan(0, Shape.ElementCount);

    /// <summary>The backing array (kernels that split work over threads index it directly).</summary>
    internal int[] Buffer => _data;

    /// <summary>A tensor holding a copy of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The number of values does not match the shape.</exception>
    public static IntTensor FromSpan(ReadOnlySpan<int> values, Shape shape)
    {
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"IntTensor.FromSpan got {values.Length} values for shape {shape}, which needs {shape.ElementCount}.", nameof(values));
        return new IntTensor(values.ToArray(), shape);
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/>.</summary>
    public static IntTensor FromArray(int[] values, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        return FromSpan(values, new Shape(shape));
    }

    /// <summary>A tensor of zeros.</summary>
    public static IntTensor Zeros(Shape shape) => new(new int[shape.ElementCount], shape);

    /// <summary>Copies the elements to a new array.</summary>
    public int[] ToArray() => Span.ToArray();

    /// <summary>
    /// Throws an <see cref="ArgumentOutOfRangeException"/> naming the first element outside
    /// [0, <paramref name="exclusiveMax"/>) (e.g. a token id beyond the vocabulary), allowing
    /// <paramref name="allowed"/> as an extra value (e.g. the ignore index -100).
    /// </summary>
    public void CheckRange(string what, int exclusiveMax, int? allowed = null)
    {
        var s = Span;
        for (int i = 0; i < s.Length; i++)
        {
            int v = s[i];
            if ((uint)v >= (uint)exclusiveMax && v != allowed)
                throw new ArgumentOutOfRangeException(what, v,
                    $"{what}: element {i} is {v}, outside [0, {exclusiveMax}){(allowed is null ? "" : $" (and not {allowed})")}.");
        }
    }

    /// <summary>Describes the shape.</summary>
    public override string ToString() => $"IntTensor {Shape}";
}
