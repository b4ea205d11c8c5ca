namespace Peft.Tensors.Kernels;

/// <summary>
/// The packed forms of a frozen [out, in] weight that <c>Ops.Linear</c> multiplies by: Wᵀ for the
/// forward x·Wᵀ and W for the input gradient dY·W, and the int8 screen greedy decoding's argmax reads (<c>Ops.LinearArgMax</c>). Kept in <see cref="Tensor.DerivedCache"/> and
/// rebuilt when the weight's <see cref="Tensor.Version"/>, buffer or the active kernel changes.
/// </summary>
internal sealed class PackedWeightCache
{
    private readonly int _version;
    private readonly float[] _buffer;
    private readonly Shape _shape;
    private readonly GemmIsa _isa;
    private PackedMatrix? _forward;
    private PackedMatrix? _backward;
    private readonly LogitScreenSlot _screen = new();

    private PackedWeightCache(Tensor weight, GemmIsa isa)
    {
        _version = weight.Version;
        _buffer = weight.Buffer;
        _shape = weight.Shape;
        _isa = isa;
    }

    /// <summary>Wᵀ packed as the right operand of x·Wᵀ (K = in, N = out).</summary>
    public static PackedMatrix Forward(Tensor weight)
    {
        var cache = For(weight);
        return cache._forward ??= PackedMatrix.Pack(true, weight.Shape[1], weight.Shape[0], weight.Span, weight.Shape[1]);
    }

    /// <summary>W packed as the right operand of dY·W (K = out, N = in).</summary>
    public static PackedMatrix Backward(Tensor weight)
    {
        var cache = For(weight);
        return cache._backward ??= PackedMatrix.Pack(false, weight.Shape[0], weight.Shape[1], weight.Span, weight.Shape[1]);
    }

    /// <summary>
    /// The int8 screen of this frozen weight for greedy argmax (<see cref="LogitScreen"/>): null until it has been asked
    /// for more than <paramref name="warmUses"/> times, and when its values are not all finite.
    /// </summary>
    public static LogitScreen? Screen(Tensor weight, int warmUses = 0)
    {
        int rows = weight.Shape[0], k = weight.Shape[1];
        return For(weight)._screen.Get(warmUses, rows, k, (row, destination) => weight.Span.Slice(row * k, k).CopyTo(destination));
    }

    /// <summary>
    /// The packed Wᵀ an earlier product with few rows made for this frozen weight, if it is still current, else null:
    /// a product with more rows (a long prompt after decoding built the copy) then uses it instead of packing per call.
    /// </summary>
    public static PackedMatrix? ExistingForward(Tensor weight) =>
        !weight.RequiresGrad && weight.DerivedCache is PackedWeightCache c && c.IsCurrentFor(weight, Gemm.ActiveIsa) ? c._forward : null;

    /// <summary>
    /// Whether <c>Ops.Linear</c> should multiply <paramref name="rows"/> rows by a packed copy: only
    /// for frozen weights that own their memory (a pooled temporary would be packed for a single
    /// use), and only for few rows (decoding, short prefills), where packing per call would cost as
    /// much as the product, or any rows inside <see cref="WeightPacking.PackFrozenWeights"/> (generation,
    /// whose decode steps make the copies anyway). Other large products (training, scoring long inputs)
    /// pack slices on the fly, so frozen weights are not held twice in memory while training.
    /// </summary>
    public static bool Applies(Tensor weight, int rows) =>
        (rows <= MaxCachedRows || WeightPacking.PacksFrozenWeights) && !weight.RequiresGrad && !weight.IsPooled && weight.Rank == 2;

    /// <summary>Products with more rows than this pack the weight on the fly instead of caching it.</summary>
    public const int MaxCachedRows = 64;

    private bool IsCurrentFor(Tensor weight, GemmIsa isa) =>
        _version == weight.Version && ReferenceEquals(_buffer, weight.Buffer) && _shape == weight.Shape && _isa == isa;

    private static PackedWeightCache For(Tensor weight)
    {
        var isa = Gemm.ActiveIsa;
        if (weight.DerivedCache is PackedWeightCache c && c.IsCurrentFor(weight, isa))
            return c;
        // Racing threads may each build one; either result is valid and the last store wins.
        var fresh = new PackedWeightCache(weight, isa);
        weight.DerivedCache = fresh;
        return fresh;
    }
}
