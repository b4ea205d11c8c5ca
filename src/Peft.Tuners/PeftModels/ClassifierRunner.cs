using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Models.Classification;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// A sequence classifier (HF PEFT's <c>SEQ_CLS</c>): the decoder-only backbone fed as a causal
/// model, one class per row from the active adapter's head.
/// </summary>
internal sealed class ClassifierRunner(SequenceClassificationModel model, Func<Tensor?> activeHead) : TaskRunner
{
    /// <inheritdoc/>
    public override PeftOutput Forward(AdapterInputs adapters, IntTensor inputIds, IntTensor? attentionMask, IntTensor? labels, IntTensor? decoderInputIds)
    {
        int batch = inputIds.Shape[0];
        if (decoderInputIds is not null) throw new ArgumentException("decoder_input_ids is for encoder-decoder models; this base model is a classifier.",
            nameof(decoderInputIds));
        if (labels is not null && (labels.Shape.Rank != 1 || labels.Shape[0] != batch))
            throw new ArgumentException($"labels {labels.Shape} must be [batch {batch}]: one class per row.", nameof(labels));
        // Class labels are per row; only token labels would grow with virtual positions.
        var x = CausalInputs.Prepare(model, adapters, inputIds, attentionMask, null, feedVirtualTokens: true, generation: false);
        var output = model.Forward(inputIds: x.InputIds, inputEmbeddings: x.Embeddings, attentionMask: x.Mask, positionIds: x.Positions,
            prefix: adapters.Prefix, labels: labels, score: activeHead());
        return new PeftOutput(output.Logits, output.Loss);
    }

    /// <inheritdoc/>
    public override IntTensor Generate(AdapterInputs kept, IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options) => throw NoGeneration();

    /// <inheritdoc/>
    public override IAsyncEnumerable<int> StreamAsync(AdapterInputs kept, IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options,
        CancellationToken cancellationToken) => throw NoGeneration();

    private static InvalidOperationException NoGeneration() => new("A sequence classifier does not generate text; use Forward for class logits.");
}
