namespace Peft.Transformers.Generation;

/// <summary>How to generate: length, stopping, and whether to use a key/value cache.</summary>
public sealed record GenerationOptions
{
    /// <summary>Maximum number of new tokens per row.</summary>
    public int MaxNewTokens { get; init; } = 32;

    /// <summary>Token ids that end a row (defaults to the model config's eos ids when null).</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary>Id written after a row has finished (defaults to the config's pad id, else the first eos id).</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Use a key/value cache (the result is identical either way; the cache is faster).</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Pre-allocate a static cache for prompt + MaxNewTokens positions instead of a growing one.</summary>
    public bool UseStaticCache { get; init; }

    internal void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), $"MaxNewTokens must be >= 0; got {MaxNewTokens}.");
    }
}
