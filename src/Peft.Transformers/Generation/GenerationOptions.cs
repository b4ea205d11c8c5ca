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

    /// <summary>Sample from the (processed) distribution instead of taking the most likely token.</summary>
    public bool DoSample { get; init; }

    /// <summary>Divides the logits before sampling (HF's temperature warper); 1 leaves them.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens when sampling (0 = off).</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of tokens whose probability reaches p when sampling (1 = off).</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>HF's repetition penalty over every token already in the row (1 = off).</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Seed of the sampling generator, so sampled output is reproducible.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Texts that end a row once its generated text contains one (the tokens that complete it are
    /// kept, as in HF's <c>stop_strings</c>); needs <see cref="TextDecoder"/>.
    /// </summary>
    public IReadOnlyList<string>? StopStrings { get; init; }

    /// <summary>Turns generated ids into text (the model's tokenizer's decode), for <see cref="StopStrings"/>.</summary>
    public Func<IReadOnlyList<int>, string>? TextDecoder { get; init; }

    /// <summary>
    /// Called after each step with the new tokens each row has so far (1 after the pass over the prompt), so a
    /// caller can time prompt processing and decoding apart, for batches too; it runs on the generating thread.
    /// </summary>
    public Action<int>? StepCompleted { get; init; }

    /// <summary>Checks the values (what the generators check before generating).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value out of range; the message names the setting.</exception>
    public void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), $"MaxNewTokens must be >= 0; got {MaxNewTokens}.");
        if (!(Temperature > 0)) throw new ArgumentOutOfRangeException(nameof(Temperature), $"Temperature must be > 0; got {Temperature}.");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), $"TopK must be >= 0; got {TopK}.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), $"TopP must be in (0, 1]; got {TopP}.");
        if (!(RepetitionPenalty > 0))
            throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), $"RepetitionPenalty must be > 0; got {RepetitionPenalty}.");
        if (StopStrings is { Count: > 0 })
        {
            if (TextDecoder is null)
                throw new ArgumentException("StopStrings need TextDecoder (the tokenizer's decode) to see the generated text.", nameof(TextDecoder));
            if (StopStrings.Any(string.IsNullOrEmpty)) throw new ArgumentException("StopStrings must not contain an empty string.", nameof(StopStrings));
        }
    }
}
