using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Models;

namespace Peft.Transformers.Generation;

/// <summary>
/// Generation for decoder-only models (greedy, or sampled with <see cref="GenerationOptions.DoSample"/>)
/// with Hugging Face's semantics: prompt positions are cumsum(mask) − 1 (pads at 1), each new
/// token takes the next position, the mask grows by one column per step, finished rows are filled
/// with the pad id, and generation stops when every row has finished. Cached and uncached runs
/// give the same tokens. What goes into the model besides the real tokens (PEFT's prefixes and
/// virtual tokens) is decided by the <see cref="ICausalStep"/> the generator runs. The model keeps the key/value
/// storage of its last dynamic-cache generation for the next one with the same batch layout and no more positions,
/// so a serving loop does not allocate (and fault in) a fresh cache per request.
/// </summary>
public sealed class CausalGenerator
{
    private readonly CausalLanguageModel _model;
    private readonly ICausalStep _step;

    /// <summary>Creates a generator over <paramref name="model"/> alone.</summary>
    public CausalGenerator(CausalLanguageModel model)
        : this(model, new ModelStep(model ?? throw new ArgumentNullException(nameof(model))))
    {
    }

    /// <summary>
    /// Creates a generator that runs <paramref name="model"/> through <paramref name="step"/> (e.g. a PEFT model's step with its adapters' inputs).
    /// </summary>
    public CausalGenerator(CausalLanguageModel model, ICausalStep step)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(step);
        _model = model;
        _step = step;
    }

    /// <summary>
    /// Generates with <paramref name="options"/> (greedy unless <see cref="GenerationOptions.DoSample"/>). Returns
    /// [batch, promptLength + steps]: the prompt as given (with its padding) followed by the new ids, like HF's
    /// <c>generate().sequences</c>.
    /// </summary>
    /// <param name="inputIds">[batch, promptLength], left-padded.</param>
    /// <param name="attentionMask">[batch, promptLength] (1 = token, 0 = padding); null = all ones. Every row needs a token.</param>
    /// <param name="options">Length, stopping, sampling and cache settings.</param>
    public IntTensor Generate(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options) => Generate(inputIds, attentionMask, options, null);

    /// <summary>
    /// As <see cref="Generate(IntTensor, IntTensor?, GenerationOptions)"/>; <paramref name="stepLogits"/> receives each step's next-token
    /// logits [batch, vocab] (parity tests).
    /// </summary>
    internal IntTensor Generate(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options, List<float[]>? stepLogits)
    {
        var prompt = Validate(inputIds, ref attentionMask, options);
        var sequences = prompt.Select(row => new List<int>(row)).ToArray();
        foreach (var step in Steps(prompt, attentionMask!, options, stepLogits))
            for (int b = 0; b < step.Length; b++) sequences[b].Add(step[b]);
        int total = sequences[0].Count;
        var result = IntTensor.Zeros(new Shape(sequences.Length, total));
        for (int b = 0; b < sequences.Length; b++) sequences[b].CopyTo(result.Span.Slice(b * total, total));
        return result;
    }

    /// <summary>
    /// Streams the new token ids of a single prompt ([1, length]) as they are generated; stops at
    /// an eos id (which is yielded), at MaxNewTokens, or when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async IAsyncEnumerable<int> StreamAsync(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = Validate(inputIds, ref attentionMask, options);
        if (prompt.Length != 1)
            throw new ArgumentException($"StreamAsync takes one prompt; got a batch of {prompt.Length}. Use Generate for batches.", nameof(inputIds));
        foreach (var step in Steps(prompt, attentionMask!, options, null))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return step[0];
            await Task.Yield();
        }
    }

    /// <summary>
    /// Streams the text generated after <paramref name="prompt"/> as it becomes complete: the prompt
    /// is encoded with <paramref name="tokenizer"/> (special tokens as its post-processor adds them),
    /// new ids are decoded incrementally, so a character split over several tokens comes out whole;
    /// the tokenizer's eos id stops generation unless the options name others.
    /// </summary>
    public async IAsyncEnumerable<string> StreamTextAsync(Peft.Tokenizers.Tokenizer tokenizer, string prompt, GenerationOptions options,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        var ids = tokenizer.Encode(prompt, addSpecialTokens: true).Ids;
        if (ids.Count == 0) throw new ArgumentException("The prompt encodes to no tokens.", nameof(prompt));
        if (options.EosTokenIds is null && tokenizer.EosTokenId is int eos) options = options with { EosTokenIds = [eos] };
        options = options with { TextDecoder = options.TextDecoder ?? (generated => tokenizer.Decode(generated, skipSpecialTokens: true)) };
        var decoder = tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        await foreach (int id in StreamAsync(IntTensor.FromArray([.. ids], 1, ids.Count), null, options, cancellationToken))
        {
            string text = decoder.Add(id);
            if (text.Length > 0) yield return text;
        }
        string rest = decoder.Flush();
        if (rest.Length > 0) yield return rest;
    }

    private int[][] Validate(IntTensor inputIds, ref IntTensor? attentionMask, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (batch, promptLength) = InputShapes.RequireTokenIds(inputIds, nameof(inputIds), nonEmpty: true);
        inputIds.CheckRange("input_ids", _model.Config.VocabSize);
        attentionMask ??= Ones(batch, promptLength);
        InputShapes.RequireMatching(attentionMask, inputIds, "attention_mask", nameof(attentionMask));
        for (int b = 0; b < batch; b++)
            if (!attentionMask.Span.Slice(b * promptLength, promptLength).ContainsAnyExcept(0))
                throw new ArgumentException($"attention_mask row {b} is all padding; every prompt needs at least one token.", nameof(attentionMask));
        var rows = new int[batch][];
        for (int b = 0; b < batch; b++) rows[b] = inputIds.Span.Slice(b * promptLength, promptLength).ToArray();
        return rows;
    }

    /// <summary>The decoding loop: yields the token chosen for every row at each step.</summary>
    private IEnumerable<int[]> Steps(int[][] prompt, IntTensor attentionMask, GenerationOptions options, List<float[]>? stepLogits)
    {
        int batch = prompt.Length, promptLength = prompt[0].Length;
        var eos = options.EosTokenIds ?? _model.Config.EosTokenIds;
        int pad = options.PadTokenId ?? _model.Config.PadTokenId ?? (eos.Count > 0 ? eos[0] : 0);
        int vocab = _model.Config.VocabSize;
        var sequences = prompt.Select(row => new List<int>(row)).ToArray();
        // The real tokens' mask; the step adds the columns of whatever else it feeds.
        var mask = new List<int>[batch];
        for (int b = 0; b < batch; b++) mask[b] = [.. attentionMask.Span.Slice(b * promptLength, promptLength)];
        var finished = new bool[batch];
        Cache? cache = null;
        if (options.UseCache)
        {
            var layout = _model.CacheLayoutFor(batch);
            int ahead = _step.VirtualPositions + promptLength;
            int dynamicCapacity = ahead + Math.Min(options.MaxNewTokens, 256);
            cache = options.UseStaticCache
                ? new StaticCache(layout, ahead + options.MaxNewTokens)
                : _model.TakeSpareCache(layout, dynamicCapacity) ?? new DynamicCache(layout, dynamicCapacity);
        }
        try
        {
            var selector = new TokenSelector(options);
            // Greedy selection reads nothing but the first maximum: a step that finds it without all the logits may.
            var greedyStep = !options.DoSample && options.RepetitionPenalty == 1f && stepLogits is null ? _step as IGreedyCausalStep : null;
            int[]? greedy = null;
            var stops = new StopStrings(options, batch);
            float[]? next = null;
            int cached = 0;
            for (int step = 0; step < options.MaxNewTokens; step++)
            {
                int total = sequences[0].Count;
                var realMask = IntTensor.FromArray([.. mask.SelectMany(m => m)], batch, total);
                // One logits buffer for the whole loop (its rows are vocabulary-sized: 200 KB for GPT-2).
                next ??= new float[batch * vocab];
                // The decode steps pack every frozen weight for their few rows anyway: the prompt pass uses those copies too.
                using (Autograd.NoGrad())
                using (WeightPacking.PackFrozenWeights())
                using (new TensorScope())
                {
                    // With a cache only the tokens it does not hold yet are fed.
                    int feed = total - cached;
                    var ids = IntTensor.Zeros(new Shape(batch, feed));
                    for (int b = 0; b < batch; b++)
                        for (int t = 0; t < feed; t++) ids.Span[b * feed + t] = sequences[b][cached + t];
                    if (greedyStep is not null) greedy = greedyStep.GreedyNextTokens(ids, realMask, cache);
                    else LastPositionLogits(_step.Logits(ids, realMask, cache), vocab, next);
                }
                if (cache is not null) cached = total;
                stepLogits?.Add((float[])next.Clone());
                var chosen = new int[batch];
                for (int b = 0; b < batch; b++)
                {
                    int token = finished[b] ? pad : greedy is not null ? greedy[b] : selector.Select(next.AsSpan(b * vocab, vocab), sequences[b]);
                    chosen[b] = token;
                    sequences[b].Add(token);
                    // The mask gains a 1 per row for the new column (HF keeps finished rows attended too).
                    mask[b].Add(1);
                    if (!finished[b] && (eos.Contains(token) || stops.Hit(b, sequences[b], promptLength))) finished[b] = true;
                }
                options.StepCompleted?.Invoke(sequences[0].Count - promptLength);
                yield return chosen;
                if (finished.All(f => f)) yield break;
            }
        }
        finally
        {
            if (cache is DynamicCache dynamic) _model.KeepSpareCache(dynamic);
        }
    }

    /// <summary>Greedy generation (<see cref="Generate(IntTensor, IntTensor?, GenerationOptions)"/> with sampling off).</summary>
    public IntTensor GenerateGreedy(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Generate(inputIds, attentionMask, options with { DoSample = false });
    }

    private static IntTensor Ones(int batch, int length)
    {
        var t = IntTensor.Zeros(new Shape(batch, length));
        t.Span.Fill(1);
        return t;
    }

    private static void LastPositionLogits(Tensor logits, int vocab, float[] result)
    {
        int batch = logits.Shape[0], length = logits.Shape[1];
        for (int b = 0; b < batch; b++)
            logits.Span.Slice(((b * length) + length - 1) * vocab, vocab).CopyTo(result.AsSpan(b * vocab));
    }
}
