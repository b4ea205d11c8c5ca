using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;

namespace Peft.Tuners.PeftModels;

/// <summary>A decoder-only language model (HF PEFT's <c>CAUSAL_LM</c>).</summary>
internal sealed class CausalRunner(CausalLanguageModel model) : TaskRunner
{
    /// <inheritdoc/>
    public override PeftOutput Forward(AdapterInputs adapters, IntTensor inputIds, IntTensor? attentionMask, IntTensor? labels, IntTensor? decoderInputIds)
    {
        if (decoderInputIds is not null) throw new ArgumentException("decoder_input_ids is for encoder-decoder models; this base model is decoder-only.",
            nameof(decoderInputIds));
        InputShapes.RequireMatching(labels, inputIds, "labels", nameof(labels), "(the shift happens inside)");
        var x = CausalInputs.Prepare(model, adapters, inputIds, attentionMask, labels, feedVirtualTokens: true, generation: false);
        var output = model.Forward(inputIds: x.InputIds, inputEmbeddings: x.Embeddings, attentionMask: x.Mask, positionIds: x.Positions,
            prefix: adapters.Prefix, labels: x.Labels);
        return new PeftOutput(output.Logits, output.Loss);
    }

    /// <inheritdoc/>
    /// <remarks>The LM head runs only on positions with a target; <paramref name="chunked"/> never holds the vocabulary-sized logits.</remarks>
    public override TargetLoss Loss(AdapterInputs adapters, IntTensor inputIds, IntTensor labels, IntTensor? attentionMask, bool chunked)
    {
        InputShapes.RequireMatching(labels, inputIds, "labels", nameof(labels), "(the shift happens inside)");
        var x = CausalInputs.Prepare(model, adapters, inputIds, attentionMask, labels, feedVirtualTokens: true, generation: false);
        return model.Loss(x.Labels!, inputIds: x.InputIds, inputEmbeddings: x.Embeddings, attentionMask: x.Mask, positionIds: x.Positions,
            prefix: adapters.Prefix, chunked: chunked);
    }

    /// <inheritdoc/>
    public override IntTensor Generate(AdapterInputs kept, IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options) =>
        Generator(kept).Generate(inputIds, attentionMask, options);

    /// <inheritdoc/>
    public override IAsyncEnumerable<int> StreamAsync(AdapterInputs kept, IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options,
        CancellationToken cancellationToken) => Generator(kept).StreamAsync(inputIds, attentionMask, options, cancellationToken);

    private CausalGenerator Generator(AdapterInputs kept) => new(model, new PeftCausalStep(model, kept));
}
