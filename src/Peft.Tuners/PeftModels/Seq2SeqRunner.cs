using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Models.T5;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// An encoder-decoder language model (HF PEFT's <c>SEQ_2_SEQ_LM</c>): virtual tokens in front of
/// the source, prefixes in the decoder (and, paper mode, the encoder and cross-attention).
/// </summary>
internal sealed class Seq2SeqRunner(T5Model model) : TaskRunner
{
    /// <summary>The encoder's input: exactly one of ids and embeddings (virtual tokens in front of the source), and the mask extended over them.</summary>
    public static (IntTensor? Ids, Tensor? Embeddings, IntTensor? Mask) SourceInputs(T5Model model, AdapterInputs adapters, IntTensor inputIds,
        IntTensor? attentionMask)
    {
        if (adapters.VirtualTokens is not { } virtualTokens) return (inputIds, null, attentionMask);
        var (embeddings, mask, _) = VirtualTokenInputs.Prepend(virtualTokens, model.Embed(inputIds), attentionMask, null);
        return (null, embeddings, mask);
    }

    /// <inheritdoc/>
    public override PeftOutput Forward(AdapterInputs adapters, IntTensor inputIds, IntTensor? attentionMask, IntTensor? labels, IntTensor? decoderInputIds)
    {
        if (decoderInputIds is null && labels is null)
            throw new ArgumentException("An encoder-decoder model needs decoder_input_ids or labels.", nameof(labels));
        var (ids, embeddings, mask) = SourceInputs(model, adapters, inputIds, attentionMask);
        var output = model.Forward(inputIds: ids, inputEmbeddings: embeddings, attentionMask: mask, decoderInputIds: decoderInputIds,
            decoderPrefix: adapters.Prefix, labels: labels, encoderPrefix: adapters.EncoderPrefix, crossAttentionPrefix: adapters.CrossAttentionPrefix);
        return new PeftOutput(output.Logits, output.Loss);
    }

    /// <inheritdoc/>
    public override IntTensor Generate(AdapterInputs kept, IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options) =>
        Generator(kept).Generate(inputIds, attentionMask, options);

    /// <inheritdoc/>
    public override IAsyncEnumerable<int> StreamAsync(AdapterInputs kept, IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options,
        CancellationToken cancellationToken) => Generator(kept).StreamAsync(inputIds, attentionMask, options, cancellationToken);

    private Seq2SeqGenerator Generator(AdapterInputs kept) => new(model, new PeftSeq2SeqStep(model, kept));
}
