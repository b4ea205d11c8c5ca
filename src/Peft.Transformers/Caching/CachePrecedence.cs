namespace Peft.Transformers.Caching;

/// <summary>
/// The one rule for a forward call given both a cache and a prefix (what made HF PEFT fail with
/// "got multiple values for keyword argument 'past_key_values'"):
/// <list type="bullet">
/// <item>no cache: the prefix (if any) is concatenated in front of each layer's keys, with gradients;</item>
/// <item>an empty cache: the prefix is written into it first and marked as its prefix;</item>
/// <item>a cache whose prefix length equals the prefix's length: the prefix is already there and is not added again;</item>
/// <item>anything else (real tokens cached without this prefix, or another prefix length): an error.</item>
/// </list>
/// </summary>
public static class CachePrecedence
{
    /// <summary>
    /// Applies the rule: returns the prefix to concatenate in attention (null when the cache holds
    /// it or there is none), after writing it into an empty cache when needed.
    /// </summary>
    public static PrefixKeyValues? Resolve(Cache? cache, PrefixKeyValues? prefix, CacheLayout modelLayout)
    {
        if (prefix is not null) modelLayout.CheckMatches(prefix.Layout, "Prefix key/values");
        if (cache is null) return prefix;
        modelLayout.CheckMatches(cache.Layout, "Cache");
        if (prefix is null) return null;
        if (cache.Length == 0)
        {
            cache.AppendPrefix(prefix.Layers);
            return null;
        }
        if (cache.PrefixLength == prefix.Length) return null;
        throw new InvalidOperationException(
            $"A prefix of {prefix.Length} positions was given with a cache that holds {cache.RealTokenLength} real tokens " +
            $"and a prefix of {cache.PrefixLength}. " +
            "Pass the prefix with the first (empty-cache) call only, or a cache that already starts with it.");
    }
}
