using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Masking;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models;

/// <summary>
/// A decoder-only language model (GPT-2, Llama, Qwen2, Mistral). The forward pass takes every
/// input as its own parameter with a defined precedence: exactly one of token ids and input
/// embeddings; a cache and a prefix combine by <see cref="CachePrecedence"/>; position ids
/// default to the positions that follow what the cache or prefix holds; the attention mask
/// covers every key (prefix, cached and new positions).
/// </summary>
public abstract class CausalLanguageModel : ILanguageModel
{
    /// <summary>Creates the model shell.</summary>
    protected CausalLanguageModel(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
    }

    /// <summary>The configuration the model was built from.</summary>
    public ModelConfig Config { get; }

    /// <inheritdoc/>
    public ModelTask TaskType => ModelTask.CausalLM;

    /// <summary>Every parameter by Hugging Face name.</summary>
    public ParameterSet Parameters { get; } = new();

    /// <summary>Every linear layer (adapters attach here), by Hugging Face module path.</summary>
    public abstract IReadOnlyList<LinearLayer> LinearLayers { get; }

    /// <summary>The token embedding table [vocab, hidden].</summary>
    public abstract Tensor TokenEmbeddings { get; }

    /// <summary>The layout a cache or prefix must have for a batch of <paramref name="batchSize"/>.</summary>
    public CacheLayout CacheLayoutFor(int batchSize) => new(Config.NumLayers, batchSize, Config.NumKeyValueHeads, Config.HeadDim);

    /// <summary>The last generation's dynamic cache, taken by the next generation over this model that fits it.</summary>
    private DynamicCache? _spareCache;

    /// <summary>
    /// The dynamic cache a finished generation left (<see cref="KeepSpareCache"/>), emptied, when it has
    /// <paramref name="layout"/> and at least <paramref name="capacity"/> positions; else null. A serving loop thus
    /// allocates (and faults in) its key/value storage once rather than per request; a generation running at the
    /// same time on another thread finds no spare and allocates its own.
    /// </summary>
    internal DynamicCache? TakeSpareCache(CacheLayout layout, int capacity)
    {
        var spare = Interlocked.Exchange(ref _spareCache, null);
        if (spare is null || spare.Layout != layout || spare.GetCapacity() < capacity) return null;
        spare.Clear();
        return spare;
    }

    /// <summary>Keeps a finished generation's cache for the next (the last to finish wins when generations overlap).</summary>
    internal void KeepSpareCache(DynamicCache cache) => Volatile.Write(ref _spareCache, cache);

    /// <inheritdoc/>
    public bool GradientCheckpointing { get; set; }

    /// <summary>True when a block should run checkpointed (enabled, no cache to fill).</summary>
    protected bool Checkpointed(Cache? cache) => GradientCheckpointing && cache is null;

    /// <summary>The tensors with gradients a checkpointed block reads besides its input: its layer's prefix.</summary>
    protected static IReadOnlyList<Tensor>? SideInputs(PrefixKeyValues? prefix, int layer) =>
        prefix is null ? null : [prefix.Source(layer).Keys, prefix.Source(layer).Values];

    /// <summary>Looks up token embeddings [batch, length, hidden], checking ids against the vocabulary.</summary>
    public Tensor Embed(IntTensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        inputIds.CheckRange("input_ids", Config.VocabSize);
        return Ops.Embedding(inputIds, TokenEmbeddings);
    }

    /// <summary>Runs the model.</summary>
    /// <param name="inputIds">Token ids [batch, length]; give this or <paramref name="inputEmbeddings"/>.</param>
    /// <param name="inputEmbeddings">Input embeddings [batch, length, hidden] (prompt methods prepend virtual tokens here).</param>
    /// <param name="attentionMask">[batch, keys] with 1 for real and 0 for padding, where keys = prefix + cached + new positions; null = all ones.</param>
    /// <param name="positionIds">[batch, length]; null = past, past+1, … where past is what the cache or prefix holds.</param>
    /// <param name="cache">A cache to append to and attend over (generation), or null.</param>
    /// <param name="prefix">Per-layer prefix key/values (prefix tuning), combined with <paramref name="cache"/> by <see cref="CachePrecedence"/>.</param>
    /// <param name="labels">[batch, length] targets for the loss (shifted by one inside; -100 ignored), or null.</param>
    /// <param name="outputHiddenStates">Also return every layer's hidden states.</param>
    /// <param name="logitsToKeep">
    /// Score only the last this many positions of each row (Hugging Face's <c>logits_to_keep</c>); 0 = every position.
    /// Generation keeps 1: the LM head over a whole prompt is a third of gpt2-small's prefill and most of a model with a
    /// large vocabulary's.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="logitsToKeep"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="logitsToKeep"/> is given with <paramref name="labels"/> (the loss scores every position).</exception>
    public CausalLMOutput Forward(IntTensor? inputIds = null, Tensor? inputEmbeddings = null, IntTensor? attentionMask = null,
        IntTensor? positionIds = null, Cache? cache = null, PrefixKeyValues? prefix = null, IntTensor? labels = null, bool outputHiddenStates = false,
        int logitsToKeep = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(logitsToKeep);
        if (logitsToKeep > 0 && labels is not null)
            throw new ArgumentException($"logitsToKeep is {logitsToKeep} but labels are given; the loss needs the logits of every position (pass 0).",
                nameof(logitsToKeep));
        var hiddenStates = outputHiddenStates ? new List<Tensor>() : null;
        // Unless every layer's hidden states are asked for, the last block computes only the kept positions past its keys and values.
        var last = Run(inputIds, inputEmbeddings, attentionMask, positionIds, cache, prefix, labels, hiddenStates,
            outputRows: hiddenStates is null ? logitsToKeep : 0);
        // The returned hidden states may hold the full rows.
        if (logitsToKeep > 0) last = LastPositions(last, logitsToKeep, releaseFull: hiddenStates is null);
        var logits = QuantizedHead is { } quantized ? Ops.QuantizedLinear(last, quantized) : Head(last);
        Tensor? loss = labels is null ? null : CausalLoss(logits, labels);
        return new CausalLMOutput(logits, loss, hiddenStates);
    }

    /// <summary>
    /// Greedy decoding's next token for each row: the first maximum of the last position's logits, exactly the index
    /// <see cref="FirstMaximum.IndexOf"/> picks from <c>Forward(..., logitsToKeep: 1).Logits</c> with the same inputs
    /// (NaN counting as the maximum, like torch.argmax). The logits are not returned, which lets a frozen float or 16-bit
    /// head compute only the few it needs (<see cref="Ops.LinearArgMax"/>, <see cref="Ops.QuantizedLinearArgMax"/>: an
    /// int8 copy of the head screens them, holding vocabulary × hidden bytes once made).
    /// </summary>
    /// <returns>One token id per row.</returns>
    public int[] GreedyNextTokens(IntTensor? inputIds = null, Tensor? inputEmbeddings = null, IntTensor? attentionMask = null,
        IntTensor? positionIds = null, Cache? cache = null, PrefixKeyValues? prefix = null)
    {
        var last = LastPositions(Run(inputIds, inputEmbeddings, attentionMask, positionIds, cache, prefix, null, null, outputRows: 1), 1,
            releaseFull: true);
        var ids = new int[last.Shape[0]];
        if (QuantizedHead is { } quantized) Ops.QuantizedLinearArgMax(last, quantized, ids);
        else HeadArgMax(last, ids);
        return ids;
    }

    /// <summary>
    /// The last <paramref name="keep"/> positions of final hidden states [batch, length, hidden] (all of them when the
    /// last block already kept only those), releasing the full rows to the pool when nothing else holds them.
    /// </summary>
    private static Tensor LastPositions(Tensor hidden, int keep, bool releaseFull)
    {
        int length = hidden.Shape[1];
        if (keep >= length) return hidden;
        var kept = Ops.Slice(hidden, 1, length - keep, keep);
        if (releaseFull) TensorScope.Release(hidden);
        return kept;
    }

    /// <summary>
    /// The first maximum of each row of <see cref="Head"/>(hidden) ([batch, 1, hidden] in); a head that is a plain
    /// product with a weight overrides this with <see cref="Ops.LinearArgMax"/>.
    /// </summary>
    protected virtual void HeadArgMax(Tensor hidden, Span<int> ids)
    {
        var logits = Head(hidden);
        FirstMaximum.IndexOfEachRow(logits.Span, logits.Shape[-1], ids);
    }

    /// <summary>
    /// The final hidden states [batch, length, hidden] (after the last norm, before the LM head),
    /// with the same inputs and semantics as <see cref="Forward"/>; heads other than the LM head
    /// (sequence classification) start here.
    /// </summary>
    public Tensor LastHiddenState(IntTensor? inputIds = null, Tensor? inputEmbeddings = null, IntTensor? attentionMask = null,
        IntTensor? positionIds = null, Cache? cache = null, PrefixKeyValues? prefix = null) =>
        Run(inputIds, inputEmbeddings, attentionMask, positionIds, cache, prefix, null, null);

    private Tensor Run(IntTensor? inputIds, Tensor? inputEmbeddings, IntTensor? attentionMask, IntTensor? positionIds, Cache? cache,
        PrefixKeyValues? prefix, IntTensor? labels, List<Tensor>? hiddenStates, int outputRows = 0)
    {
        if ((inputIds is null) == (inputEmbeddings is null))
            throw new ArgumentException("Forward needs exactly one of inputIds and inputEmbeddings.");
        Tensor hidden;
        if (inputIds is not null)
        {
            InputShapes.RequireTokenIds(inputIds, nameof(inputIds));
            hidden = Embed(inputIds);
        }
        else
        {
            hidden = inputEmbeddings!;
            if (hidden.Rank != 3 || hidden.Shape[2] != Config.HiddenSize)
                throw new ArgumentException($"inputs_embeds must be [batch, length, {Config.HiddenSize}]; got {hidden.Shape}.", nameof(inputEmbeddings));
        }
        int batch = hidden.Shape[0], length = hidden.Shape[1];
        if (length == 0) throw new ArgumentException("Forward needs at least one position.");

        var attendPrefix = CachePrecedence.Resolve(cache, prefix, CacheLayoutFor(batch));
        int past = cache?.Length ?? attendPrefix?.Length ?? 0;
        int keys = past + length;
        if (positionIds is null) positionIds = PositionIds.Range(batch, past, length);
        else if (positionIds.Shape.Rank != 2 || positionIds.Shape[0] != batch || positionIds.Shape[1] != length)
            throw new ArgumentException($"position_ids {positionIds.Shape} must be [batch {batch}, length {length}].", nameof(positionIds));
        if (labels is not null && (labels.Shape.Rank != 2 || labels.Shape[0] != batch || labels.Shape[1] != length))
            throw new ArgumentException($"labels {labels.Shape} must be [batch {batch}, length {length}].", nameof(labels));
        if (attentionMask is not null && (attentionMask.Shape.Rank != 2 || attentionMask.Shape[0] != batch || attentionMask.Shape[1] != keys))
            throw new ArgumentException(
                $"attention_mask {attentionMask.Shape} must be [batch {batch}, {keys}] (prefix/cached {past} + new {length} positions).",
                nameof(attentionMask));

        var mask = AttentionMasks.Causal(batch, length, keys, attentionMask, MaskStyle, SlidingWindow);
        var output = RunLayers(hidden, positionIds, mask, cache, attendPrefix, hiddenStates, outputRows);
        // Token embeddings looked up here are used up (backward keeps them only if a step reads them); the caller's
        // inputEmbeddings and any hidden state handed out stay.
        if (inputIds is not null && hiddenStates is null) TensorScope.Release(hidden);
        return output;
    }

    /// <summary>How this family's Hugging Face code combines causal and padding masks.</summary>
    protected abstract MaskStyle MaskStyle { get; }

    /// <summary>Sliding-window span, if the family uses one.</summary>
    protected virtual int? SlidingWindow => null;

    /// <summary>
    /// Adds positions to the embeddings (if the family does), runs every block and the final
    /// norm; appends the embedding output and every block output to <paramref name="hiddenStates"/>.
    /// </summary>
    /// <param name="embeddings">[batch, length, hidden].</param>
    /// <param name="positionIds">[batch, length].</param>
    /// <param name="additiveMask">[batch, 1, length, keys].</param>
    /// <param name="cache">The cache to append to, or null.</param>
    /// <param name="prefix">Prefix key/values, or null.</param>
    /// <param name="hiddenStates">Collects every layer's hidden states, or null.</param>
    /// <param name="outputRows">
    /// When positive (and below length; never with <paramref name="hiddenStates"/>), only the last this many positions
    /// are returned [batch, outputRows, hidden], and the last block computes only them past its keys and values.
    /// </param>
    protected abstract Tensor RunLayers(Tensor embeddings, IntTensor positionIds, Tensor additiveMask, Cache? cache, PrefixKeyValues? prefix,
        List<Tensor>? hiddenStates, int outputRows);

    /// <summary>The LM head's weight [vocab, hidden] (for losses computed without materialized logits).</summary>
    protected abstract Tensor HeadWeight { get; }

    /// <summary>
    /// The causal LM loss of <see cref="Forward"/> with the same inputs, for training loops that need
    /// only the loss: the LM head runs only on positions that have a target (not on padding, prompt
    /// tokens labelled -100 or virtual tokens), and with <paramref name="chunked"/> the
    /// [positions, vocab] logits are never held (<see cref="Ops.LinearCrossEntropy"/>: far less
    /// memory, and no extra work while the LM head is frozen).
    /// </summary>
    /// <param name="labels">[batch, length] labels as for <see cref="Forward"/>.</param>
    /// <param name="inputIds">Token ids [batch, length], or null with <paramref name="inputEmbeddings"/>.</param>
    /// <param name="inputEmbeddings">Input embeddings [batch, length, hidden].</param>
    /// <param name="attentionMask">As for <see cref="Forward"/>.</param>
    /// <param name="positionIds">As for <see cref="Forward"/>.</param>
    /// <param name="prefix">As for <see cref="Forward"/>.</param>
    /// <param name="chunked">Compute the head and cross-entropy in chunks without holding the logits.</param>
    /// <returns>The mean loss and how many shifted targets it averaged over.</returns>
    public TargetLoss Loss(IntTensor labels, IntTensor? inputIds = null, Tensor? inputEmbeddings = null, IntTensor? attentionMask = null,
        IntTensor? positionIds = null, PrefixKeyValues? prefix = null, bool chunked = false)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var hidden = Run(inputIds, inputEmbeddings, attentionMask, positionIds, null, prefix, labels, null);
        int batch = hidden.Shape[0], length = hidden.Shape[1];
        if (length < 2) throw new ArgumentException($"A causal LM loss needs at least 2 positions; got {length}.", nameof(labels));
        labels.CheckRange("labels", Config.VocabSize, allowed: -100);
        var targets = ShiftedTargets(labels, batch, length);
        var rows = Ops.Reshape(hidden, batch * length, Config.HiddenSize);
        int used = 0;
        foreach (int t in targets.Span) if (t != -100) used++;
        if (used > 0 && used < targets.Length)
        {
            // Gather the positions that have a target; the rest would only feed ignored logits.
            var index = IntTensor.Zeros(new Shape(used));
            var kept = IntTensor.Zeros(new Shape(used));
            for (int i = 0, j = 0; i < targets.Length; i++)
            {
                if (targets.Span[i] == -100) continue;
                index.Span[j] = i;
                kept.Span[j++] = targets.Span[i];
            }
            rows = Ops.Embedding(index, rows);
            targets = kept;
            TensorScope.Release(hidden);
        }
        var loss = chunked
            ? Ops.LinearCrossEntropy(rows, HeadWeight, targets, -100)
            : Ops.CrossEntropy(Ops.Linear(rows, HeadWeight), targets, -100);
        // The final hidden rows are used up unless a trainable head's backward reads them.
        TensorScope.Release(rows);
        return new TargetLoss(loss, used);
    }

    /// <summary>Position t's target is label t+1; each row's last position has none (-100).</summary>
    private static IntTensor ShiftedTargets(IntTensor labels, int batch, int length)
    {
        var targets = IntTensor.Zeros(new Shape(batch * length));
        var t = targets.Span;
        var l = labels.Span;
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < length - 1; i++) t[b * length + i] = l[b * length + i + 1];
            t[b * length + length - 1] = -100;
        }
        return targets;
    }

    /// <summary>A quantized copy of the LM head that logits are computed with, or null (see <see cref="QuantizeHead"/>).</summary>
    public Tensors.Quantization.QuantizedMatrix? QuantizedHead { get; private set; }

    /// <summary>
    /// Computes logits with a quantized copy of the LM head from now on (decoding reads far fewer
    /// bytes per token); the float head stays for lookups (tied embeddings) and the chunked loss.
    /// </summary>
    public void QuantizeHead(Tensors.Quantization.QuantizationFormat format, bool doubleQuantization = false)
    {
        QuantizedHead = Tensors.Quantization.QuantizedMatrix.Quantize(HeadWeight, format, doubleQuantization, "QuantizeHead");
    }

    /// <summary>
    /// <see cref="QuantizeHead"/> with a 16-bit format when every head value is exactly one of that format's (a 16-bit
    /// checkpoint's head): the logits stay the float head's up to summation order. Otherwise no copy is made.
    /// </summary>
    /// <returns>Whether the copy was made.</returns>
    /// <exception cref="ArgumentException"><paramref name="format"/> is not BFloat16 or Float16.</exception>
    public bool TryQuantizeHeadExactly(Tensors.Quantization.QuantizationFormat format)
    {
        if (Tensors.Quantization.HalfMatrix.RoundExactly(HeadWeight, format) is not { } exact) return false;
        QuantizedHead = exact;
        return true;
    }

    /// <summary>Maps final hidden states to logits.</summary>
    protected abstract Tensor Head(Tensor hidden);

    /// <summary>Hugging Face's causal LM loss: logits[:, :-1] against labels[:, 1:], mean over labels that are not -100.</summary>
    public static Tensor CausalLoss(Tensor logits, IntTensor labels)
    {
        int batch = logits.Shape[0], length = logits.Shape[1], vocab = logits.Shape[2];
        if (length < 2)
            throw new ArgumentException($"A causal LM loss needs at least 2 positions; got {length}.", nameof(labels));
        labels.CheckRange("labels", vocab, allowed: -100);
        // Position t predicts label t+1; each row's last position predicts nothing (-100), so the
        // logits are used in place rather than sliced (a copy of the largest tensor of a step).
        var targets = ShiftedTargets(labels, batch, length);
        return Ops.CrossEntropy(Ops.Reshape(logits, batch * length, vocab), targets, -100);
    }
}
