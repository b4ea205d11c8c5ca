namespace Peft.Transformers.Caching;

/// <summary>
/// A cache pre-allocated for <c>maxLength</c> positions: generation appends without allocating,
/// and appending past the end fails with a message giving the capacity.
/// </summary>
public sealed class StaticCache : Cache
{
    /// <summary>Creates a cache holding up to <paramref name="maxLength"/> positions per layer (prefix included).</summary>
    public StaticCache(CacheLayout layout, int maxLength)
        : base(layout, maxLength > 0 ? maxLength : throw new ArgumentOutOfRangeException(nameof(maxLength), $"maxLength must be positive; got {maxLength}."))
    {
    }

    /// <summary>The fixed number of positions per layer.</summary>
    public int MaxLength => GetCapacity();

    /// <inheritdoc/>
    protected override bool CanGrow => false;
}
