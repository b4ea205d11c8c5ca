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
    /// Generates greedily. Returns [batch, promptLength + steps]: the prompt as given (with its
    /// padding) followed by the new ids, like HF's <c>generate().sequences</c>.
    /// </summary>
    /// <param name="inputIds">[batch, promptLength], left-padded.</param>
    /// <param name="attentionMask">[batch, promptLength] (1 = token, 0 = padding); null = all ones.</param>
    /// <param name="options">Length, stopping and cache settings.</param>
    /// <param name="stepLogits">When not null, receives each step's next-token logits [batch, vocab].</param>
    public IntTensor GenerateGreedy(IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options, List<float[]>? stepLogits = null)
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

        var eos = options.EosTokenIds ?? _model.Config.EosTokenIds;
        int pad = options.PadTokenId ?? _model.Config.PadTokenId ?? (eos.Count > 0 ? eos[0] : 0);
        int vocab = _model.Config.VocabSize;

        var sequences = new List<int[]>(batch);
        for (int b = 0; b < batch; b++) sequences.Add(inputIds.Span.Slice(b * promptLength, promptLength).ToArray());
        var mask = new List<int>(attentionMask.ToArray());
        var finished = new bool[batch];
        int total = promptLength;

        Cache? cache = null;
        if (options.UseCache)
        {
            var layout = _model.CacheLayoutFor(batch);
            cache = options.UseStaticCache ? new StaticCache(layout, promptLength + options.MaxNewTokens) : new DynamicCache(layout, promptLength + Math.Min(options.MaxNewTokens, 256));
        }

        using var noGrad = Autograd.NoGrad();
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            var fullMask = IntTensor.FromArray([.. mask], batch, total);
            float[] next;
            using (new TensorScope())
            {
                // With a cache only the positions it does not hold yet are fed.
                int feedFrom = cache?.Length ?? 0;
                int feed = total - feedFrom;
                var ids = IntTensor.Zeros(new Shape(batch, feed));
                for (int b = 0; b < batch; b++)
                    for (int t = 0; t < feed; t++) ids.Span[b * feed + t] = sequences[b][feedFrom + t];
                var positions = PositionIds.FromAttentionMask(fullMask, feed);
                var output = _model.Forward(inputIds: ids, attentionMask: fullMask, positionIds: positions, cache: cache);
                next = LastPositionLogits(output.Logits, vocab);
            }
            stepLogits?.Add(next);
            for (int b = 0; b < batch; b++)
            {
                int token = finished[b] ? pad : ArgMax(next.AsSpan(b * vocab, vocab));
                var grown = new int[total + 1];
                sequences[b].CopyTo(grown, 0);
                grown[total] = token;
                sequences[b] = grown;
                if (!finished[b] && eos.Contains(token)) finished[b] = true;
            }
            // The mask gains a 1 per row for the new column (HF keeps finished rows attended too).
            var newMask = new List<int>(batch * (total + 1));
            for (int b = 0; b < batch; b++)
            {
                newMask.AddRange(mask.GetRange(b * total, total));
                newMask.Add(1);
            }
            mask = newMask;
            total++;
            if (finished.All(f => f)) break;
        }
        var result = IntTensor.Zeros(new Shape(batch, total));
        for (int b = 0; b < batch; b++) sequences[b].CopyTo(result.Span.Slice(b * total, total));
        return result;
    }

    private static IntTensor Ones(int batch, int length)
    {
        var t = IntTensor.Zeros(new Shape(batch, length));
        t.Span.Fill(1);
        return t;
    }

    private static float[] LastPositionLogits(Tensor logits, int vocab)
    {
        int batch = logits.Shape[0], length = logits.Shape[1];
        var result = new float[batch * vocab];
        for (int b = 0; b < batch; b++)
            logits.Span.Slice(((b * length) + length - 1) * vocab, vocab).CopyTo(result.AsSpan(b * vocab));
        return result;
    }

    // First maximum, as torch.argmax returns.
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
