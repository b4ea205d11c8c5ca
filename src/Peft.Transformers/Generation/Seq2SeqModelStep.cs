using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Models.T5;

namespace Peft.Transformers.Generation;

/// <summary>The steps of a bare encoder-decoder model: the source ids encoded as they are, the decoder fed its ids.</summary>
public sealed class Seq2SeqModelStep : ISeq2SeqStep
{
    private readonly T5Model _model;

    /// <summary>Creates the steps for <paramref name="model"/>.</summary>
    public Seq2SeqModelStep(T5Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <inheritdoc/>
    public int DecoderPrefixLength => 0;

    /// <inheritdoc/>
    public int CrossAttentionPrefixLength => 0;

    /// <inheritdoc/>
    public (Tensor Output, IntTensor? Mask) Encode(IntTensor inputIds, IntTensor? attentionMask) =>
        (_model.Encode(inputIds, null, attentionMask), attentionMask);

    /// <inheritdoc/>
    public Tensor Logits(IntTensor decoderIds, Tensor encoderOutput, IntTensor? encoderMask, EncoderDecoderCache? cache) =>
        _model.Forward(attentionMask: encoderMask, decoderInputIds: decoderIds, encoderOutput: encoderOutput, cache: cache).Logits;
}
