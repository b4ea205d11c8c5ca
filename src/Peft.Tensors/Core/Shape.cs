using System.Runtime.CompilerServices;

namespace Peft.Tensors;

/// <summary>
/// The dimensions of a tensor, stored inline (up to <see cref="MaxRank"/> dimensions) so that
/// creating a shape never allocates. Element counts use checked arithmetic.
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    /// <summary>The largest rank a tensor may have.</summary>
    public const int MaxRank = 6;

    private readonly Dims _dims;

    /// <summary>Number of dimensions.</summary>
    public int Rank { get; }

    /// <summary>Total number of elements (product of the dimensions; 1 for a scalar).</summary>
    public int ElementCount { get; }

    /// <summary>The scalar shape: rank 0, one element.</summary>
    public Shape()
    {
        Rank = 0;
        ElementCount = 1;
    }

    /// <summary>Creates a shape from its dimensions.</summary>
    /// <exception cref="ArgumentException">A dimension is negative, the rank exceeds <see cref="MaxRank"/>, or the element count overflows.</exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        if (dims.Length > MaxRank)
            throw new ArgumentException($"Shape rank {dims.Length} exceeds the maximum rank {MaxRank}.", nameof(dims));
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0)
                throw new ArgumentException($"Shape dimension {i} is {dims[i]}; dimensions must be non-negative.", nameof(dims));
            _dims[i] = dims[i];
            count *= dims[i];
            if (count > Array.MaxLength)
                throw new ArgumentException($"Shape [{string.Join(", ", dims.ToArray())}] has more than {Array.MaxLength} elements.", nameof(dims));
        }
        Rank = dims.Length;
        ElementCount = (int)count;
    }

    /// <summary>The size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => _dims[NormalizeAxis(axis)];

    /// <summary>The last dimension (1 for a scalar).</summary>
    public int Last => Rank == 0 ? 1 : _dims[Rank - 1];

    /// <summary>Product of all dimensions but the last: the number of rows when viewed as a matrix.</summary>
    public int Rows => Rank == 0 ? 1 : ElementCount == 0 ? ProductRange(0, Rank - 1) : ElementCount / Last;

    /// <summary>Maps a possibly negative axis to its index, throwing if it is out of range.</summary>
    public int NormalizeAxis(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if ((uint)a >= (uint)Rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {this} of rank {Rank}.");
        return a;
    }

    /// <summary>Product of dimensions in [start, end).</summary>
    public int ProductRange(int start, int end)
    {
        long p = 1;
        for (int i = start; i < end; i++) p *= _dims[i];
        return checked((int)p);
    }

    /// <summary>The dimensions as a new array.</summary>
    public int[] ToArray()
    {
        var a = new int[Rank];
        for (int i = 0; i < Rank; i++) a[i] = _dims[i];
        return a;
    }

    /// <summary>A shape equal to this one with dimension <paramref name="axis"/> replaced.</summary>
    public Shape With(int axis, int size)
    {
        int a = NormalizeAxis(axis);
        Span<int> d = stackalloc int[Rank];
        for (int i = 0; i < Rank; i++) d[i] = i == a ? size : _dims[i];
        return new Shape(d);
    }

    /// <summary>The row-major stride of dimension <paramref name="axis"/>.</summary>
    public int Stride(int axis) => ProductRange(NormalizeAxis(axis) + 1, Rank);

    /// <inheritdoc/>
    public bool Equals(Shape other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++)
            if (_dims[i] != other._dims[i]) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        for (int i = 0; i < Rank; i++) h.Add(_dims[i]);
        return h.ToHashCode();
    }

    /// <summary>Equality of all dimensions.</summary>
    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    /// <summary>Inequality of any dimension.</summary>
    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>Formats as <c>[2, 3, 4]</c>.</summary>
    public override string ToString()
    {
        var parts = new string[Rank];
        for (int i = 0; i < Rank; i++) parts[i] = _dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }

    /// <summary>Creates a shape from an array of dimensions.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    [InlineArray(MaxRank)]
    private struct Dims
    {
        private int _element0;
    }
}
