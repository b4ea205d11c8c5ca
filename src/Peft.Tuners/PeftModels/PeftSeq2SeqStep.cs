using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Generation;
using Peft.Transformers.Models.T5;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// The generation steps of an encoder-decoder base with adapters: virtual tokens in front of the
/// source (mask extended) and the encoder prefix when encoding; the decoder and cross-attention
/// prefixes on every decoder step (the cache keeps them after the first).
/// </summary>
internal sealed class PeftSeq2SeqStep(T5Model model, AdapterInputs adapters) : ISeq2SeqStep
{
    /// <inheritdoc/>
    public int DecoderPrefixLength => adapters.Prefix?.Length ?? 0;

    /// <inheritdoc/>
    public int CrossAttentionPrefixLength => adapters.CrossAttentionPrefix?.Length ?? 0;

    /// <inheritdoc/>
    public (Tensor Output, IntTensor? Mask) Encode(IntTensor inputIds, IntTensor? attentionMask)
    {
        var (ids, embeddings, mask) = Seq2SeqRunner.SourceInputs(model, adapters, inputIds, attentionMask);
        return (model.Encode(ids, embeddings, mask, adapters.EncoderPrefix), mask);
    }

    /// <inheritdoc/>
    public Tensor Logits(IntTensor decoderIds, Tensor encoderOutput, IntTensor? encoderMask, EncoderDecoderCache? cache) =>
        model.Forward(attentionMask: encoderMask, decoderInputIds: decoderIds, encoderOutput: encoderOutput, cache: cache, decoderPrefix: adapters.Prefix,
            crossAttentionPrefix: adapters.CrossAttentionPrefix).Logits;
}
