using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Masking;
using Peft.Transformers.Models;

namespace Peft.Transformers.Generation;

/// <summary>
/// Greedy generation for decoder-only models with Hugging Face's semantics: prompt positions
/// are cumsum(mask) − 1 (pads at 1), each new token takes the next position, the mask grows by
/// one column per step, finished rows are filled with the pad id, and generation stops when
/// every row has finished. Cached and uncached runs give the same tokens.
/// </summary>
public sealed class CausalGenerator
{
    private readonly CausalLanguageModel _model;

    /// <summary>Creates a generator over <paramref name="model"/>.</summary>
    public CausalGenerator(CausalLanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>
    /// Generates with <paramref name="options"/> (greedy unless <see cref="GenerationOptions.DoSample"/>). Returns [batch, promptLength + steps]: the prompt as given (with its
    /// padding) followed by the new ids, like HF's <c>generate().sequences</c>.
    /// </summary>
    /// <param name="inputIds">[batch, promptLength], left-padded.</param>
    /// <param name="attentionMask">[batch, promptLength] (1 = token, 0 = padding); null = all ones.</param>
    /// <param name="options">Length, stopping and cache settings.</param>
    /// <param name="stepLogits">When not null, receives each step's next-token logits [batch, vocab].</param>
    /// <param name="virtualTokens">
    /// Prompt-learning embeddings [virtualTokens, hidden] (or [batch, virtualTokens, hidden] when
    /// rows differ, as in multitask prompt tuning) placed before every row's prompt (prompt
    /// tuning, P-tuning), with PEFT's semantics: the mask gains leading ones, positions run
    /// 0, 1, … over virtual and real tokens alike (no mask-derived positions), and the returned
    /// sequences hold only real ids.
    /// </param>
    /// <param name="prefix">
    /// Prefix-tuning key/values for every layer, with PEFT's semantics: written into the cache
    /// before the prompt (or concatenated on every uncached step), the mask gains leading ones,
    /// positions continue after the prefix. With virtual tokens as well, the prefix precedes them.
    /// </param>
    /// <param name="placement">Where virtual tokens go in left-padded rows and how positions count (HF PEFT's layout by default).</param>
    public IntTensor Generate(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options, List<float[]>? stepLogits = null, Tensor? virtualTokens = null,
        PrefixKeyValues? prefix = null, VirtualTokenPlacement placement = VirtualTokenPlacement.BeforePadding)
    {
        var prompt = Validate(inputIds, ref attentionMask, options);
        var sequences = prompt.Select(row => new List<int>(row)).ToArray();
        foreach (var step in Steps(prompt, attentionMask!, options, stepLogits, virtualTokens, prefix, placement))
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
        if (prompt.Length != 1) throw new ArgumentException($"StreamAsync takes one prompt; got a batch of {prompt.Length}. Use Generate for batches.", nameof(inputIds));
        foreach (var step in Steps(prompt, attentionMask!, options, null, null, null, VirtualTokenPlacement.BeforePadding))
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
        if (inputIds.Shape.Rank != 2 || inputIds.Shape[1] == 0)
            throw new ArgumentException($"input_ids must be [batch, length >= 1]; got {inputIds.Shape}.", nameof(inputIds));
        int batch = inputIds.Shape[0], promptLength = inputIds.Shape[1];
        inputIds.CheckRange("input_ids", _model.Config.VocabSize);
        attentionMask ??= Ones(batch, promptLength);
        if (attentionMask.Shape.Rank != 2 || attentionMask.Shape[0] != batch || attentionMask.Shape[1] != promptLength)
            throw new ArgumentException($"attention_mask {attentionMask.Shape} must match input_ids {inputIds.Shape}.", nameof(attentionMask));
        var rows = new int[batch][];
        for (int b = 0; b < batch; b++) rows[b] = inputIds.Span.Slice(b * promptLength, promptLength).ToArray();
        return rows;
    }

    /// <summary>The decoding loop: yields the token chosen for every row at each step.</summary>
    private IEnumerable<int[]> Steps(int[][] prompt, IntTensor attentionMask, GenerationOptions options, List<float[]>? stepLogits, Tensor? virtualTokens, PrefixKeyValues? prefix,
        VirtualTokenPlacement placement)
    {
        int batch = prompt.Length, promptLength = prompt[0].Length;
        int virtualCount = 0;
        bool nextToInput = placement == VirtualTokenPlacement.NextToInput;
        if (virtualTokens is not null)
        {
            bool shared = virtualTokens.Rank == 2 && virtualTokens.Shape[1] == _model.Config.HiddenSize;
            bool perRow = virtualTokens.Rank == 3 && virtualTokens.Shape[0] == batch && virtualTokens.Shape[2] == _model.Config.HiddenSize;
            if (!shared && !perRow)
                throw new ArgumentException($"virtual token embeddings {virtualTokens.Shape} must be [count, {_model.Config.HiddenSize}] or [{batch}, count, {_model.Config.HiddenSize}].", nameof(virtualTokens));
            virtualCount = virtualTokens.Shape[virtualTokens.Rank - 2];
        }
        // Both may be given (a prompt adapter stacked with a prefix adapter): the prefix comes first.
        int promptVirtual = virtualCount, prefixLength = prefix?.Length ?? 0;
        if (prefix is not null) virtualCount += prefix.Length;
        var eos = options.EosTokenIds ?? _model.Config.EosTokenIds;
        int pad = options.PadTokenId ?? _model.Config.PadTokenId ?? (eos.Count > 0 ? eos[0] : 0);
        int vocab = _model.Config.VocabSize;
        var sequences = prompt.Select(row => new List<int>(row)).ToArray();
        // Mask columns follow the key order: prefix, then (HF) virtual tokens and the prompt, or
        // (next to input) the row's left padding, its virtual tokens and the rest of the prompt.
        var leftPadding = new int[batch];
        var mask = new List<int>[batch];
        for (int b = 0; b < batch; b++)
        {
            var row = attentionMask.Span.Slice(b * promptLength, promptLength).ToArray();
            if (nextToInput) while (leftPadding[b] < promptLength - 1 && row[leftPadding[b]] == 0) leftPadding[b]++;
            mask[b] = [.. Enumerable.Repeat(1, prefixLength), .. row.Take(leftPadding[b]), .. Enumerable.Repeat(1, promptVirtual), .. row.Skip(leftPadding[b])];
        }
        var finished = new bool[batch];
        Cache? cache = null;
        if (options.UseCache)
        {
            var layout = _model.CacheLayoutFor(batch);
            int capacity = virtualCount + promptLength + options.MaxNewTokens;
            cache = options.UseStaticCache ? new StaticCache(layout, capacity) : new DynamicCache(layout, Math.Min(capacity, virtualCount + promptLength + 256));
        }
        var selector = new TokenSelector(options);
        var stops = new StopStrings(options, batch);
        float[]? next = null;
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            int total = sequences[0].Count;
            var fullMask = IntTensor.FromArray([.. mask.SelectMany(m => m)], batch, virtualCount + total);
            // One logits buffer for the whole loop (its rows are vocabulary-sized: 200 KB for GPT-2).
            next ??= new float[batch * vocab];
            using (Autograd.NoGrad())
            using (new TensorScope())
            {
                // With a cache only the positions it does not hold yet are fed.
                int feedFrom = Math.Max(0, (cache?.Length ?? 0) - virtualCount);
                bool withVirtual = virtualTokens is not null && (cache?.Length ?? 0) == 0;
                int feed = total - feedFrom;
                var ids = IntTensor.Zeros(new Shape(batch, feed));
                for (int b = 0; b < batch; b++)
                    for (int t = 0; t < feed; t++) ids.Span[b * feed + t] = sequences[b][feedFrom + t];
                CausalLMOutput output;
                if (withVirtual && nextToInput)
                {
                    // Each row's virtual tokens after its padding; positions from the mask.
                    var rows = virtualTokens!.Rank == 3 ? virtualTokens : RepeatRows(virtualTokens, batch);
                    var embedded = _model.Embed(ids);
                    var perRow = new Tensor[batch];
                    for (int b = 0; b < batch; b++)
                    {
                        var tokens = Ops.Slice(embedded, 0, b, 1);
                        var own = Ops.Slice(rows, 0, b, 1);
                        int f = leftPadding[b];
                        perRow[b] = f == 0 ? Ops.Concat([own, tokens], 1) : Ops.Concat([Ops.Slice(tokens, 1, 0, f), own, Ops.Slice(tokens, 1, f, feed - f)], 1);
                    }
                    var embeddings = Ops.Concat(perRow, 0);
                    output = _model.Forward(inputEmbeddings: embeddings, attentionMask: fullMask, positionIds: PositionIds.FromAttentionMask(fullMask, promptVirtual + feed), cache: cache, prefix: prefix);
                }
                else if (withVirtual)
                {
                    // PEFT prompt learning: virtual embeddings first, default (sequential) positions.
                    var rows = virtualTokens!.Rank == 3 ? virtualTokens : RepeatRows(virtualTokens, batch);
                    var embeddings = Ops.Concat([rows, _model.Embed(ids)], 1);
                    output = _model.Forward(inputEmbeddings: embeddings, attentionMask: fullMask, cache: cache, prefix: prefix);
                }
                else if ((virtualTokens is not null || prefix is not null) && !nextToInput) output = _model.Forward(inputIds: ids, attentionMask: fullMask, cache: cache, prefix: prefix);
                else if (virtualTokens is not null || prefix is not null)
                    output = _model.Forward(inputIds: ids, attentionMask: fullMask, positionIds: PositionIds.FromAttentionMask(fullMask, feed), cache: cache, prefix: prefix);
                else output = _model.Forward(inputIds: ids, attentionMask: fullMask, positionIds: PositionIds.FromAttentionMask(fullMask, feed), cache: cache);
                LastPositionLogits(output.Logits, vocab, next);
            }
            stepLogits?.Add((float[])next.Clone());
            var chosen = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                int token = finished[b] ? pad : selector.Select(next.AsSpan(b * vocab, vocab), sequences[b]);
                chosen[b] = token;
                sequences[b].Add(token);
                // The mask gains a 1 per row for the new column (HF keeps finished rows attended too).
                mask[b].Add(1);
                if (!finished[b] && (eos.Contains(token) || stops.Hit(b, sequences[b], promptLength))) finished[b] = true;
            }
            yield return chosen;
            if (finished.All(f => f)) yield break;
        }
    }

    /// <summary>Greedy generation (<see cref="Generate"/> with sampling off).</summary>
    public IntTensor GenerateGreedy(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options, List<float[]>? stepLogits = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Generate(inputIds, attentionMask, options with { DoSample = false }, stepLogits);
    }

    /// <summary>[count, hidden] repeated into [batch, count, hidden] (differentiable).</summary>
    private static Tensor RepeatRows(Tensor rows, int batch) => Ops.Repeat(Ops.Reshape(rows, 1, rows.Shape[0], rows.Shape[1]), batch);

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
