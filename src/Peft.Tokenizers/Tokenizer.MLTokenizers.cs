using System.Buffers;
using Microsoft.ML.Tokenizers;
using Peft.Tokenizers.AddedTokens;
using Peft.Tokenizers.Interop;
using Peft.Tokenizers.PostProcessing;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Peft.Tokenizers;

// The Microsoft.ML.Tokenizers side of Tokenizer: the base-class overrides, and wrapping theirs.
public sealed partial class Tokenizer
{
    private Tokenizer(MLTokenizerBackend foreign)
        : this(null, null, foreign, null, null, new AddedVocabulary([]))
    {
        _foreign = foreign;
        BosTokenId = foreign.BosTokenId;
        EosTokenId = foreign.EosTokenId;
        PadTokenId = foreign.PadTokenId;
        UnkTokenId = foreign.UnkTokenId;
    }

    /// <summary>
    /// Wraps an ML.NET tokenizer (Tiktoken, Llama/SentencePiece, CodeGen, BPE, BERT, ...) so it can
    /// be passed to every Peft.MLNet API that takes a <see cref="Tokenizer"/>; the model's special
    /// ids it does not know come in <paramref name="options"/>. A Peft tokenizer is returned as is.
    /// </summary>
    /// <remarks>
    /// <see cref="Encode"/> with special tokens gives what the wrapped tokenizer gives (a Llama
    /// tokenizer's bos included) plus the bos/eos the options ask for; without, a SentencePiece or
    /// CodeGen tokenizer is asked for none. Offsets are the wrapped tokenizer's: when it normalizes
    /// (SentencePiece's ▁), they point into its normalized text.
    /// </remarks>
    /// <exception cref="ArgumentException">The tokenizer publishes no vocabulary and <see cref="MLTokenizerOptions.VocabularySize"/> is not given.</exception>
    public static Tokenizer FromMLTokenizer(MLTokenizer tokenizer, MLTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer is Tokenizer ours) return ours;
        return new Tokenizer(new MLTokenizerBackend(tokenizer, options ?? new MLTokenizerOptions()));
    }

    /// <summary>The ML.NET tokenizer this one wraps (<see cref="FromMLTokenizer"/>), or null for a tokenizer.json one.</summary>
    public MLTokenizer? WrappedTokenizer => _foreign?.Inner;

    /// <inheritdoc/>
    public override Normalizer? Normalizer => _foreign?.Inner.Normalizer;

    /// <inheritdoc/>
    public override PreTokenizer? PreTokenizer => _foreign?.Inner.PreTokenizer;

    /// <summary>
    /// ML.NET's encoding: the tokens with special tokens as the post-processor adds them (as a
    /// Llama tokenizer adds its bos), cut to <see cref="EncodeSettings.MaxTokenCount"/> at a
    /// character boundary. Offsets point into the input text (alignment survives normalization),
    /// so the normalized text is reported as null.
    /// </summary>
    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        if (_foreign is not null)
        {
            var tokens = text is null
                ? _foreign.Inner.EncodeToTokens(textSpan, out string? normalized, settings.ConsiderPreTokenization, settings.ConsiderNormalization)
                : _foreign.Inner.EncodeToTokens(text, out normalized, settings.ConsiderPreTokenization, settings.ConsiderNormalization);
            int keep = Math.Min(tokens.Count, settings.MaxTokenCount);
            int consumed = keep == tokens.Count ? (normalized ?? text)?.Length ?? textSpan.Length
                : keep == 0 ? 0 : tokens[keep - 1].Offset.End.GetOffset(int.MaxValue);
            return new EncodeResults<EncodedToken>
            {
                Tokens = keep == tokens.Count ? tokens : tokens.Take(keep).ToList(), NormalizedText = normalized, CharsConsumed = consumed,
            };
        }
        string input = text ?? textSpan.ToString();
        var encoded = EncodeForML(input, settings);
        int count = PrefixAtBoundary(encoded.Offsets, settings.MaxTokenCount);
        var result = new List<EncodedToken>(count);
        for (int i = 0; i < count; i++)
        {
            var (start, end) = encoded.Offsets[i];
            result.Add(new EncodedToken(encoded.Ids[i], encoded.Tokens[i], new Range(start, end)));
        }
        return new EncodeResults<EncodedToken> { Tokens = result, NormalizedText = null, CharsConsumed = PrefixIndex(encoded.Offsets, count, input.Length) };
    }

    /// <inheritdoc cref="EncodeToTokens(string?, ReadOnlySpan{char}, EncodeSettings)"/>
    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        if (_foreign is not null)
        {
            var ids = text is null
                ? _foreign.Inner.EncodeToIds(textSpan, settings.MaxTokenCount, out string? normalized, out int consumed,
                    settings.ConsiderPreTokenization, settings.ConsiderNormalization)
                : _foreign.Inner.EncodeToIds(text, settings.MaxTokenCount, out normalized, out consumed,
                    settings.ConsiderPreTokenization, settings.ConsiderNormalization);
            return new EncodeResults<int> { Tokens = ids, NormalizedText = normalized, CharsConsumed = consumed };
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.MaxTokenCount, "maxTokenCount");
        string input = text ?? textSpan.ToString();
        if (settings.MaxTokenCount == int.MaxValue && TryEncodeIdsFast(input, settings) is { } fast)
            return new EncodeResults<int> { Tokens = fast, NormalizedText = null, CharsConsumed = input.Length };
        var encoded = EncodeForML(input, settings);
        int count = PrefixAtBoundary(encoded.Offsets, settings.MaxTokenCount);
        var result = count == encoded.Ids.Count ? encoded.Ids : encoded.Ids.Take(count).ToList();
        return new EncodeResults<int> { Tokens = result, NormalizedText = null, CharsConsumed = PrefixIndex(encoded.Offsets, count, input.Length) };
    }

    /// <inheritdoc/>
    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        if (_foreign is not null)
            return text is null
                ? _foreign.Inner.CountTokens(textSpan, settings.ConsiderPreTokenization, settings.ConsiderNormalization)
                : _foreign.Inner.CountTokens(text, settings.ConsiderPreTokenization, settings.ConsiderNormalization);
        string input = text ?? textSpan.ToString();
        return (TryEncodeIdsFast(input, settings) ?? EncodeForML(input, settings).Ids).Count;
    }

    /// <summary>
    /// Ids alone for plain byte-level BPE (GPT-2, RoBERTa, Llama 3, Qwen files; see ByteLevelFast):
    /// no offsets, token strings or piece strings, so cached pieces allocate nothing;
    /// null where the pipeline has another shape (the full path then runs).
    /// </summary>
    private List<int>? TryEncodeIdsFast(string text, EncodeSettings settings)
    {
        if (!settings.ConsiderPreTokenization || (!settings.ConsiderNormalization && _normalizer is not null)
            || ByteLevelFast(text, normalize: true) is not var (bpe, split) || !PostProcessorAddsNothing)
            return null;
        var ids = new List<int>(text.Length / 3 + 4);
        foreach (var (start, length, token) in _added.Split(text))
        {
            if (token is not null) ids.Add(token.Id);
            else PreTokenization.ByteLevelIds.Encode(text.AsSpan(start, length), start, bpe, split, ids, null, null);
        }
        return ids;
    }

    /// <summary>
    /// The index in the input text (never a normalized copy, so <paramref name="normalizedText"/>
    /// is null) where the longest prefix (or, from the end, suffix) of at most
    /// <see cref="EncodeSettings.MaxTokenCount"/> tokens ends (begins); a cut never splits a
    /// character whose bytes are spread over several tokens.
    /// </summary>
    protected override int GetIndexByTokenCount(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings, bool fromEnd, out string? normalizedText,
        out int tokenCount)
    {
        if (_foreign is not null)
        {
            return (text is null, fromEnd) switch
            {
                (true, false) => _foreign.Inner.GetIndexByTokenCount(textSpan, settings.MaxTokenCount, out normalizedText, out tokenCount,
                    settings.ConsiderPreTokenization, settings.ConsiderNormalization),
                (false, false) => _foreign.Inner.GetIndexByTokenCount(text!, settings.MaxTokenCount, out normalizedText, out tokenCount,
                    settings.ConsiderPreTokenization, settings.ConsiderNormalization),
                (true, true) => _foreign.Inner.GetIndexByTokenCountFromEnd(textSpan, settings.MaxTokenCount, out normalizedText, out tokenCount,
                    settings.ConsiderPreTokenization, settings.ConsiderNormalization),
                (false, true) => _foreign.Inner.GetIndexByTokenCountFromEnd(text!, settings.MaxTokenCount, out normalizedText, out tokenCount,
                    settings.ConsiderPreTokenization, settings.ConsiderNormalization),
            };
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.MaxTokenCount, "maxTokenCount");
        string input = text ?? textSpan.ToString();
        var offsets = EncodeForML(input, settings).Offsets;
        normalizedText = null;
        if (!fromEnd)
        {
            tokenCount = PrefixAtBoundary(offsets, settings.MaxTokenCount);
            return PrefixIndex(offsets, tokenCount, input.Length);
        }
        int n = offsets.Count;
        int k = Math.Min(n, settings.MaxTokenCount);
        while (k > 0 && k < n && offsets[n - k].Start < offsets[n - k - 1].End) k--;
        tokenCount = k;
        return k == 0 ? input.Length : k == n ? 0 : offsets[n - k].Start;
    }

    /// <inheritdoc/>
    public override string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return Decode(ids as IReadOnlyList<int> ?? ids.ToList(), skipSpecialTokens: false);
    }

    /// <summary>Decodes into <paramref name="destination"/>; when it is too small, as many ids as fit whole characters.</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var list = ids as IReadOnlyList<int> ?? ids.ToList();
        string all = Decode(list, skipSpecialTokens: false);
        if (all.Length <= destination.Length)
        {
            all.AsSpan().CopyTo(destination);
            (idsConsumed, charsWritten) = (list.Count, all.Length);
            return OperationStatus.Done;
        }
        // Too small: stream the ids and stop before the first piece of text that does not fit.
        var stream = CreateStreamingDecoder(skipSpecialTokens: false);
        (idsConsumed, charsWritten) = (0, 0);
        for (int i = 0; i < list.Count; i++)
        {
            string piece = stream.Add(list[i]);
            if (piece.Length == 0) continue;
            if (charsWritten + piece.Length > destination.Length) break;
            piece.AsSpan().CopyTo(destination[charsWritten..]);
            charsWritten += piece.Length;
            idsConsumed = i + 1;
        }
        return OperationStatus.DestinationTooSmall;
    }

    /// <summary>
    /// Our encoding for the ML.NET entry points: special tokens as the post-processor adds them,
    /// those it adds (offset (0, 0)) placed at the end of the text when they follow the text's tokens.
    /// </summary>
    private EncodedText EncodeForML(string text, EncodeSettings settings)
    {
        var encoded = EncodeCore(text, addSpecialTokens: true, settings.ConsiderNormalization, settings.ConsiderPreTokenization);
        var (before, after) = PostProcessorCounts();
        if (after == 0) return encoded;
        var offsets = encoded.Offsets.ToArray();
        for (int i = Math.Max(before, offsets.Length - after); i < offsets.Length; i++) offsets[i] = (text.Length, text.Length);
        return encoded with { Offsets = offsets };
    }

    /// <summary>Special tokens the post-processor adds before and after a text; (0, 0) when that could not be told.</summary>
    private (int Before, int After) PostProcessorCounts() => _postProcessorCounts ?? (0, 0);

    /// <summary>The post-processor adds nothing, so the ids-only path may leave it out.</summary>
    private bool PostProcessorAddsNothing => _postProcessorCounts == (0, 0);

    /// <summary>How many special tokens a post-processor puts before and after a single text, or null if it cannot be told.</summary>
    private static (int Before, int After)? CountPostProcessorTokens(IPostProcessor? postProcessor)
    {
        if (postProcessor is null) return (0, 0);
        // A marker token shows where the text's own tokens end up.
        List<int> ids = [-1];
        List<string> tokens = [""];
        List<(int, int)> offsets = [(0, 1)];
        try
        {
            postProcessor.Process(ids, tokens, offsets);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IndexOutOfRangeException or KeyNotFoundException)
        {
            return null;
        }
        int before = ids.IndexOf(-1);
        return before < 0 ? null : (before, ids.Count - before - 1);
    }

    /// <summary>The most of the first <paramref name="max"/> tokens that end at a character boundary.</summary>
    private static int PrefixAtBoundary(IReadOnlyList<(int Start, int End)> offsets, int max)
    {
        int k = Math.Min(offsets.Count, max);
        while (k > 0 && k < offsets.Count && offsets[k].Start < offsets[k - 1].End) k--;
        return k;
    }

    private static int PrefixIndex(IReadOnlyList<(int Start, int End)> offsets, int count, int length) =>
        count == 0 ? 0 : count == offsets.Count ? length : offsets[count - 1].End;
}
