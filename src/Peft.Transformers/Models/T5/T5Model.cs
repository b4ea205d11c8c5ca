using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Masking;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models.T5;

// Shapes: B batch, S source length, T decoder length, D hidden (d_model), V vocabulary, H heads,
// NB relative-attention buckets, P encoder or decoder prefix length, Pc cross-attention prefix length,
// K decoder self-attention keys (cached, or P + T).

/// <summary>
/// T5 (<c>T5ForConditionalGeneration</c>, flan-t5 included): an encoder and a decoder of
/// pre-RMS-norm blocks with relative position bias (computed by the first layer of each stack and
/// shared), unscaled attention, cross-attention in the decoder, ReLU or gated-GELU feed-forward,
/// and an output head tied to the shared embedding (scaled by d_model^-0.5 when tied).
/// </summary>
public sealed class T5Model : ILanguageModel
{
    private readonly Tensor _shared, _encoderNorm, _decoderNorm, _head;
    private readonly T5Attention[] _encoderSelf, _decoderSelf, _decoderCross;
    private readonly T5FeedForward[] _encoderFf, _decoderFf;
    private readonly Tensor[] _encoderNorms0, _encoderNorms1, _decoderNorms0, _decoderNorms1, _decoderNorms2;
    private readonly T5RelativePositionBias _encoderBias, _decoderBias;
    private readonly LinearLayer[] _linears;

    /// <summary>Builds the model with zero weights (fill them by loading or initialization).</summary>
    public T5Model(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Family != ModelFamily.T5)
            throw new ArgumentException($"T5Model needs a t5 config; got model_type '{config.ModelType}'.", nameof(config));
        Config = config;
        int d = config.HiddenSize, h = config.NumAttentionHeads, dkv = config.HeadDim;
        _shared = Parameters.Add("shared.weight", new Shape(config.VocabSize, d)); // [V, D]
        int enc = config.NumLayers, dec = config.NumDecoderLayers;
        _encoderSelf = new T5Attention[enc];
        _encoderFf = new T5FeedForward[enc];
        _encoderNorms0 = new Tensor[enc];
        _encoderNorms1 = new Tensor[enc];
        Tensor? encoderTable = null;
        for (int i = 0; i < enc; i++)
        {
            string p = $"encoder.block.{i}.layer.";
            _encoderSelf[i] = new T5Attention(p + "0.SelfAttention", d, h, dkv, Parameters);
            // encoderTable: [NB, H]
            if (i == 0) encoderTable = Parameters.Add(p + "0.SelfAttention.relative_attention_bias.weight", new Shape(config.RelativeAttentionNumBuckets, h));
            _encoderNorms0[i] = Parameters.Add(p + "0.layer_norm.weight", new Shape(d));
            _encoderFf[i] = new T5FeedForward(p + "1.DenseReluDense", config, Parameters);
            _encoderNorms1[i] = Parameters.Add(p + "1.layer_norm.weight", new Shape(d));
        }
        _encoderNorm = Parameters.Add("encoder.final_layer_norm.weight", new Shape(d));
        _decoderSelf = new T5Attention[dec];
        _decoderCross = new T5Attention[dec];
        _decoderFf = new T5FeedForward[dec];
        _decoderNorms0 = new Tensor[dec];
        _decoderNorms1 = new Tensor[dec];
        _decoderNorms2 = new Tensor[dec];
        Tensor? decoderTable = null;
        for (int i = 0; i < dec; i++)
        {
            string p = $"decoder.block.{i}.layer.";
            _decoderSelf[i] = new T5Attention(p + "0.SelfAttention", d, h, dkv, Parameters);
            // decoderTable: [NB, H]
            if (i == 0) decoderTable = Parameters.Add(p + "0.SelfAttention.relative_attention_bias.weight", new Shape(config.RelativeAttentionNumBuckets, h));
            _decoderNorms0[i] = Parameters.Add(p + "0.layer_norm.weight", new Shape(d));
            _decoderCross[i] = new T5Attention(p + "1.EncDecAttention", d, h, dkv, Parameters);
            _decoderNorms1[i] = Parameters.Add(p + "1.layer_norm.weight", new Shape(d));
            _decoderFf[i] = new T5FeedForward(p + "2.DenseReluDense", config, Parameters);
            _decoderNorms2[i] = Parameters.Add(p + "2.layer_norm.weight", new Shape(d));
        }
        _decoderNorm = Parameters.Add("decoder.final_layer_norm.weight", new Shape(d));
        _head = config.TieWordEmbeddings ? _shared : Parameters.Add("lm_head.weight", new Shape(config.VocabSize, d)); // [V, D]
        _encoderBias = new T5RelativePositionBias(encoderTable!, bidirectional: true, config.RelativeAttentionNumBuckets, config.RelativeAttentionMaxDistance);
        _decoderBias = new T5RelativePositionBias(decoderTable!, bidirectional: false, config.RelativeAttentionNumBuckets, config.RelativeAttentionMaxDistance);
        _linears = [.. Enumerable.Range(0, enc).SelectMany(i => _encoderSelf[i].Linears.Concat(_encoderFf[i].Linears)),
            .. Enumerable.Range(0, dec).SelectMany(i => _decoderSelf[i].Linears.Concat(_decoderCross[i].Linears).Concat(_decoderFf[i].Linears))];
    }

    /// <summary>The configuration.</summary>
    public ModelConfig Config { get; }

    /// <inheritdoc/>
    public ModelTask TaskType => ModelTask.Seq2SeqLM;

    /// <summary>Every parameter by Hugging Face name.</summary>
    public ParameterSet Parameters { get; } = new();

    /// <summary>Every linear layer, by Hugging Face module path.</summary>
    public IReadOnlyList<LinearLayer> LinearLayers => _linears;

    /// <summary>The shared token embedding [vocab, d_model].</summary>
    public Tensor TokenEmbeddings => _shared;

    /// <summary>The layout of the decoder's self-attention cache (and prefix) for a batch.</summary>
    public CacheLayout DecoderCacheLayoutFor(int batchSize) => new(Config.NumDecoderLayers, batchSize, Config.NumAttentionHeads, Config.HeadDim);

    /// <summary>Looks up token embeddings, checking ids against the vocabulary.</summary>
    public Tensor Embed(IntTensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        inputIds.CheckRange("input_ids", Config.VocabSize);
        return Ops.Embedding(inputIds, _shared);
    }

    /// <summary>The layout of an encoder self-attention prefix for a batch.</summary>
    public CacheLayout EncoderPrefixLayoutFor(int batchSize) => new(Config.NumLayers, batchSize, Config.NumAttentionHeads, Config.HeadDim);

    /// <summary>Runs the encoder: exactly one of <paramref name="inputIds"/> and <paramref name="inputEmbeddings"/>; mask [batch, length] or null.</summary>
    /// <param name="inputIds">Source ids [batch, length].</param>
    /// <param name="inputEmbeddings">Source embeddings [batch, length, hidden].</param>
    /// <param name="attentionMask">Source mask [batch, length], or null.</param>
    /// <param name="encoderPrefix">Key/values in front of every encoder self-attention (prefix tuning's paper mode), always attended; or null.</param>
    public Tensor Encode(IntTensor? inputIds, Tensor? inputEmbeddings, IntTensor? attentionMask, PrefixKeyValues? encoderPrefix = null)
    {
        if ((inputIds is null) == (inputEmbeddings is null))
            throw new ArgumentException("Encode needs exactly one of inputIds and inputEmbeddings.");
        var x = inputEmbeddings ?? Embed(inputIds!); // [B, S, D]
        if (x.Rank != 3 || x.Shape[2] != Config.HiddenSize)
            throw new ArgumentException($"Encoder input must be [batch, length, {Config.HiddenSize}]; got {x.Shape}.");
        int batch = x.Shape[0], length = x.Shape[1];
        if (encoderPrefix is not null) EncoderPrefixLayoutFor(batch).CheckMatches(encoderPrefix.Layout, "Encoder prefix key/values");
        int p = encoderPrefix?.Length ?? 0;
        // mask: [B, 1, S, P+S]
        var mask = attentionMask is null
            ? Tensor.Zeros(new Shape(batch, 1, length, p + length))
            : AttentionMasks.Padding(batch, length, p == 0 ? attentionMask : AttentionMasks.WithLeadingOnes(attentionMask, batch, length, p));
        // Prefix keys take positions 0..p-1 and the tokens p.., as the decoder's prefix does.
        var bias = _encoderBias.Compute(length, p + length, p); // [1, H, S, P+S]
        for (int i = 0; i < _encoderSelf.Length; i++)
        {
            int layer = i;
            var input = x;
            x = GradientCheckpointing
                ? Ops.Checkpoint(h => EncoderBlock(layer, h, mask, bias, encoderPrefix), x,
                    encoderPrefix is null ? null : [encoderPrefix.Source(layer).Keys, encoderPrefix.Source(layer).Values])
                : EncoderBlock(layer, x, mask, bias, encoderPrefix);
            // A block's input is used up once the next one has it (the embeddings may be the caller's: kept).
            if (i > 0) TensorScope.Release(input);
        }
        var encoded = Ops.RmsNorm(x, _encoderNorm, Config.NormEpsilon); // [B, S, D]
        if (_encoderSelf.Length > 0) TensorScope.Release(x);
        return encoded;
    }

    // Blocks release each intermediate once used up (TensorScope.Release): training keeps only what backward reads.
    private Tensor EncoderBlock(int i, Tensor x, Tensor mask, Tensor bias, PrefixKeyValues? prefix)
    {
        var mid = Residual(x, _encoderNorms0[i], n => _encoderSelf[i].SelfAttend(i, n, mask, bias, null, prefix));
        var y = Residual(mid, _encoderNorms1[i], _encoderFf[i].Forward);
        TensorScope.Release(mid);
        return y;
    }

    /// <summary>x + sublayer(norm(x)), releasing the normalized input and the sublayer's output.</summary>
    private Tensor Residual(Tensor x, Tensor normWeight, Func<Tensor, Tensor> sublayer)
    {
        var normalized = Ops.RmsNorm(x, normWeight, Config.NormEpsilon);
        var update = sublayer(normalized);
        TensorScope.Release(normalized);
        return Intermediates.AddTo(x, update);
    }

    private Tensor DecoderBlock(int i, Tensor x, Tensor selfMask, Tensor bias, Cache? selfCache, PrefixKeyValues? prefix, Tensor encoderOutput,
        Tensor crossMask, Cache? crossCache, PrefixKeyValues? crossPrefix)
    {
        var afterSelf = Residual(x, _decoderNorms0[i], n => _decoderSelf[i].SelfAttend(i, n, selfMask, bias, selfCache, prefix));
        var afterCross = Residual(afterSelf, _decoderNorms1[i], n => _decoderCross[i].CrossAttend(i, n, encoderOutput, crossMask, crossCache, crossPrefix));
        TensorScope.Release(afterSelf);
        var y = Residual(afterCross, _decoderNorms2[i], _decoderFf[i].Forward);
        TensorScope.Release(afterCross);
        return y;
    }

    /// <inheritdoc/>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// Runs the model. The encoder runs unless <paramref name="encoderOutput"/> is given (generation
    /// encodes once). Decoder inputs default to the labels shifted right (decoder start token first,
    /// -100 replaced by the pad id), as HF does. A decoder cache and prefix combine by
    /// <see cref="CachePrecedence"/>.
    /// </summary>
    /// <param name="inputIds">Source ids, or null with <paramref name="inputEmbeddings"/> or <paramref name="encoderOutput"/>.</param>
    /// <param name="inputEmbeddings">Source embeddings.</param>
    /// <param name="attentionMask">Source mask [batch, source length], or null.</param>
    /// <param name="decoderInputIds">Decoder ids; null = labels shifted right.</param>
    /// <param name="decoderAttentionMask">[batch, prefix/cached + decoder length], or null.</param>
    /// <param name="encoderOutput">A precomputed encoder output (generation encodes once).</param>
    /// <param name="cache">Decoder caches (self and cross attention), or null.</param>
    /// <param name="decoderPrefix">Key/values in front of the decoder's self-attention (HF PEFT's prefix tuning).</param>
    /// <param name="labels">Target ids for the loss (-100 ignored), or null.</param>
    /// <param name="encoderPrefix">
    /// Key/values in front of the encoder's self-attention (paper mode), or null; ignored when <paramref name="encoderOutput"/> is given.
    /// </param>
    /// <param name="crossAttentionPrefix">
    /// Key/values in front of the encoder output in every cross-attention (paper mode), or null; a cache stores them with the encoder's.
    /// </param>
    public Seq2SeqLMOutput Forward(IntTensor? inputIds = null, Tensor? inputEmbeddings = null, IntTensor? attentionMask = null,
        IntTensor? decoderInputIds = null, IntTensor? decoderAttentionMask = null, Tensor? encoderOutput = null,
        EncoderDecoderCache? cache = null, PrefixKeyValues? decoderPrefix = null, IntTensor? labels = null,
        PrefixKeyValues? encoderPrefix = null, PrefixKeyValues? crossAttentionPrefix = null)
    {
        encoderOutput ??= Encode(inputIds, inputEmbeddings, attentionMask, encoderPrefix);
        int batch = encoderOutput.Shape[0], sourceLength = encoderOutput.Shape[1];
        if (attentionMask is not null && (attentionMask.Shape.Rank != 2 || attentionMask.Shape[0] != batch || attentionMask.Shape[1] != sourceLength))
            throw new ArgumentException($"attention_mask {attentionMask.Shape} must be [batch {batch}, source length {sourceLength}].", nameof(attentionMask));
        if (decoderInputIds is null)
        {
            if (labels is null) throw new ArgumentException("Forward needs decoderInputIds or labels (to derive them from).");
            decoderInputIds = ShiftRight(labels);
        }
        if (decoderInputIds.Shape.Rank != 2 || decoderInputIds.Shape[0] != batch)
            throw new ArgumentException($"decoder_input_ids {decoderInputIds.Shape} must be [batch {batch}, length].", nameof(decoderInputIds));
        int length = decoderInputIds.Shape[1];
        if (labels is not null && (labels.Shape.Rank != 2 || labels.Shape[0] != batch || labels.Shape[1] != length))
            throw new ArgumentException($"labels {labels.Shape} must be [batch {batch}, {length}] like decoder_input_ids.", nameof(labels));

        var selfCache = cache?.SelfAttention;
        var prefix = CachePrecedence.Resolve(selfCache, decoderPrefix, DecoderCacheLayoutFor(batch));
        int past = selfCache?.Length ?? prefix?.Length ?? 0;
        int keys = past + length;
        if (decoderAttentionMask is not null
            && (decoderAttentionMask.Shape.Rank != 2 || decoderAttentionMask.Shape[0] != batch || decoderAttentionMask.Shape[1] != keys))
            throw new ArgumentException(
                $"decoder_attention_mask {decoderAttentionMask.Shape} must be [batch {batch}, {keys}] (prefix/cached {past} + new {length}).",
                nameof(decoderAttentionMask));
        var selfMask = AttentionMasks.Causal(batch, length, keys, decoderAttentionMask, MaskStyle.MinValue); // [B, 1, T, K]
        if (crossAttentionPrefix is not null) DecoderCacheLayoutFor(batch).CheckMatches(crossAttentionPrefix.Layout, "Cross-attention prefix key/values");
        int crossPrefixLength = crossAttentionPrefix?.Length ?? 0;
        var crossMask = attentionMask is null // [B, 1, T, Pc+S]
            ? Tensor.Zeros(new Shape(batch, 1, length, crossPrefixLength + sourceLength))
            : AttentionMasks.Padding(batch, length,
                crossPrefixLength == 0 ? attentionMask : AttentionMasks.WithLeadingOnes(attentionMask, batch, sourceLength, crossPrefixLength));
        var bias = _decoderBias.Compute(length, keys, past); // [1, H, T, K]

        var x = Embed(decoderInputIds); // [B, T, D]
        for (int i = 0; i < _decoderSelf.Length; i++)
        {
            int layer = i;
            var input = x;
            if (GradientCheckpointing && cache is null)
            {
                Tensor[] side = prefix is null ? [encoderOutput] : [encoderOutput, prefix.Source(layer).Keys, prefix.Source(layer).Values];
                if (crossAttentionPrefix is not null) side = [.. side, crossAttentionPrefix.Source(layer).Keys, crossAttentionPrefix.Source(layer).Values];
                x = Ops.Checkpoint(h => DecoderBlock(layer, h, selfMask, bias, null, prefix, encoderOutput, crossMask, null, crossAttentionPrefix), x, side);
            }
            else x = DecoderBlock(layer, x, selfMask, bias, selfCache, prefix, encoderOutput, crossMask, cache?.CrossAttention, crossAttentionPrefix);
            if (i > 0) TensorScope.Release(input);
        }
        var decoded = x;
        x = Ops.RmsNorm(x, _decoderNorm, Config.NormEpsilon); // [B, T, D]
        if (_decoderSelf.Length > 0) TensorScope.Release(decoded);
        if (Config.TieWordEmbeddings) x = Ops.Scale(x, 1f / MathF.Sqrt(Config.HiddenSize));
        var logits = Ops.Linear(x, _head); // [B, T, V]
        Tensor? loss = null;
        if (labels is not null)
        {
            labels.CheckRange("labels", Config.VocabSize, allowed: -100);
            loss = Ops.CrossEntropy(logits, labels, -100);
        }
        return new Seq2SeqLMOutput(logits, loss, encoderOutput);
    }

    /// <summary>HF's <c>_shift_right</c>: decoder start id first, labels[:-1] after, -100 replaced by the pad id.</summary>
    public IntTensor ShiftRight(IntTensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Shape.Rank != 2) throw new ArgumentException($"labels must be [batch, length]; got {labels.Shape}.", nameof(labels));
        int batch = labels.Shape[0], length = labels.Shape[1];
        int start = Config.DecoderStartTokenId ?? 0, pad = Config.PadTokenId ?? 0;
        var result = IntTensor.Zeros(labels.Shape); // [B, T]
        var r = result.Span;
        var l = labels.Span;
        for (int b = 0; b < batch; b++)
        {
            r[b * length] = start;
            for (int t = 1; t < length; t++)
            {
                int v = l[b * length + t - 1];
                r[b * length + t] = v == -100 ? pad : v;
            }
        }
        return result;
    }
}
