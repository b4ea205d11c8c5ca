using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;

namespace Peft.Transformers.Generation;

/// <summary>
/// Generation for encoder-decoder models (greedy, or sampled with <see cref="GenerationOptions.DoSample"/>):
/// the encoder runs once, the decoder starts from the decoder start id and extends one token per
/// step (cached or recomputed, same tokens), rows that emitted an eos id continue with the pad id,
/// and the result is laid out as HF's <c>generate().sequences</c>: decoder start id followed by the
/// new ids. What goes in besides the ids (PEFT's virtual tokens and prefixes) is decided by the
/// <see cref="ISeq2SeqStep"/> the generator runs.
/// </summary>
public sealed class Seq2SeqGenerator
{
    private readonly T5Model _model;
    private readonly ISeq2SeqStep _step;

    /// <summary>Creates a generator over <paramref name="model"/> alone.</summary>
    public Seq2SeqGenerator(T5Model model)
        : this(model, new Seq2SeqModelStep(model ?? throw new ArgumentNullException(nameof(model))))
    {
    }

    /// <summary>
    /// Creates a generator that runs <paramref name="model"/> through <paramref name="step"/> (e.g. a PEFT model's steps with its adapters' inputs).
    /// </summary>
    public Seq2SeqGenerator(T5Model model, ISeq2SeqStep step)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(step);
        _model = model;
        _step = step;
    }

    /// <summary>Generates greedily (<see cref="Generate(IntTensor, IntTensor?, GenerationOptions)"/> with sampling off).</summary>
    /// <param name="inputIds">Source ids [batch, length].</param>
    /// <param name="attentionMask">Source mask, or null for all ones.</param>
    /// <param name="options">Length, stopping and cache settings.</param>
    public IntTensor GenerateGreedy(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Generate(inputIds, attentionMask, options with { DoSample = false });
    }

    /// <summary>
    /// Generates from source ids [batch, length] (greedy unless <see cref="GenerationOptions.DoSample"/>;
    /// sampling, temperature, top-k/p and repetition penalty as for causal models). Returns
    /// [batch, 1 + steps]: the decoder start id and the new ids, as HF's <c>generate().sequences</c>.
    /// </summary>
    /// <param name="inputIds">Source ids [batch, length].</param>
    /// <param name="attentionMask">Source mask, or null for all ones.</param>
    /// <param name="options">Length, stopping, sampling and cache settings.</param>
    public IntTensor Generate(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options) => Generate(inputIds, attentionMask, options, null);

    /// <summary>
    /// As <see cref="Generate(IntTensor, IntTensor?, GenerationOptions)"/>; <paramref name="stepLogits"/> receives each step's next-token
    /// logits [batch, vocab] (parity tests).
    /// </summary>
    internal IntTensor Generate(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options, List<float[]>? stepLogits)
    {
        Validate(inputIds, options);
        int batch = inputIds.Shape[0];
        int start = DecoderStart(options);
        var sequences = new List<int>[batch];
        for (int b = 0; b < batch; b++) sequences[b] = [start];
        foreach (var step in Steps(inputIds, attentionMask, options, stepLogits))
            for (int b = 0; b < batch; b++) sequences[b].Add(step[b]);
        int length = sequences[0].Count;
        var result = IntTensor.Zeros(new Shape(batch, length));
        for (int b = 0; b < batch; b++) sequences[b].CopyTo(result.Span.Slice(b * length, length));
        return result;
    }

    /// <summary>
    /// Streams the new ids for one source row ([1, length]) as they are generated; stops after an
    /// eos id (which is yielded), at MaxNewTokens, or when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async IAsyncEnumerable<int> StreamAsync(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Validate(inputIds, options);
        if (inputIds.Shape[0] != 1)
            throw new ArgumentException(
                $"StreamAsync takes one source row; got a batch of {inputIds.Shape[0]}. Use Generate for batches.", nameof(inputIds));
        foreach (var step in Steps(inputIds, attentionMask, options, null))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return step[0];
            await Task.Yield();
        }
    }

    private void Validate(IntTensor inputIds, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        InputShapes.RequireTokenIds(inputIds, nameof(inputIds), nonEmpty: true);
    }

    private int PadId(GenerationOptions options) => options.PadTokenId ?? _model.Config.PadTokenId ?? 0;

    /// <summary>The id every decoder row starts from (the config's decoder start id, else the pad id).</summary>
    private int DecoderStart(GenerationOptions options) => _model.Config.DecoderStartTokenId ?? PadId(options);

    /// <summary>The decoding loop: the encoder runs once, then each step yields every row's new token.</summary>
    private IEnumerable<int[]> Steps(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options, List<float[]>? stepLogits)
    {
        int batch = inputIds.Shape[0], vocab = _model.Config.VocabSize;
        var eos = options.EosTokenIds ?? _model.Config.EosTokenIds;
        int pad = PadId(options);
        int start = DecoderStart(options);

        Tensor encoderOutput;
        IntTensor? encoderMask;
        using (Autograd.NoGrad())
        {
            (encoderOutput, encoderMask) = _step.Encode(inputIds, attentionMask);
            encoderOutput = TensorScope.Keep(encoderOutput);
        }
        int prefixLength = _step.DecoderPrefixLength;
        int sourceLength = encoderOutput.Shape[1];
        EncoderDecoderCache? cache = null;
        if (options.UseCache)
        {
            var selfLayout = _model.DecoderCacheLayoutFor(batch);
            Cache self = options.UseStaticCache
                ? new StaticCache(selfLayout, prefixLength + options.MaxNewTokens + 1)
                : new DynamicCache(selfLayout, prefixLength + Math.Min(options.MaxNewTokens + 1, 256));
            cache = new EncoderDecoderCache(self, new StaticCache(selfLayout, _step.CrossAttentionPrefixLength + sourceLength));
        }

        var sequences = new List<int>[batch];
        for (int b = 0; b < batch; b++) sequences[b] = [start];
        var finished = new bool[batch];
        var selector = new TokenSelector(options);
        var stops = new StopStrings(options, batch);
        float[]? next = null;
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            int total = sequences[0].Count;
            int feedFrom = Math.Max(0, (cache?.SelfAttention.Length ?? 0) - prefixLength);
            int feed = total - feedFrom;
            var ids = IntTensor.Zeros(new Shape(batch, feed));
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < feed; t++) ids.Span[b * feed + t] = sequences[b][feedFrom + t];
            // One logits buffer for the whole loop (each row is vocabulary-sized).
            next ??= new float[batch * vocab];
            // The decoder's single-token steps pack its frozen weights anyway; uncached steps over all tokens use them too.
            using (Autograd.NoGrad())
            using (WeightPacking.PackFrozenWeights())
            using (new TensorScope())
            {
                var logits = _step.Logits(ids, encoderOutput, encoderMask, cache);
                for (int b = 0; b < batch; b++) logits.Span.Slice(((b * feed) + feed - 1) * vocab, vocab).CopyTo(next.AsSpan(b * vocab));
            }
            stepLogits?.Add((float[])next.Clone());
            var chosen = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                int token = finished[b] ? pad : selector.Select(next.AsSpan(b * vocab, vocab), sequences[b]);
                chosen[b] = token;
                sequences[b].Add(token);
                if (!finished[b] && (eos.Contains(token) || stops.Hit(b, sequences[b], 1))) finished[b] = true;
            }
            options.StepCompleted?.Invoke(sequences[0].Count - 1);
            yield return chosen;
            if (finished.All(f => f)) yield break;
        }
    }
}
