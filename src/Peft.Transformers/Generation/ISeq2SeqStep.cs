using Peft.Tensors;
using Peft.Transformers.Caching;

namespace Peft.Transformers.Generation;

/// <summary>
/// The two forward steps of encoder-decoder generation: encoding the source once, then the
/// decoder's logits for the decoder ids the cache does not hold yet. Whatever goes in besides the
/// ids (PEFT's virtual tokens and prefixes) is the step's business.
/// </summary>
public interface ISeq2SeqStep
{
    /// <summary>Positions the step writes in front of the decoder's self-attention (its prefix); caches are sized with it.</summary>
    int DecoderPrefixLength { get; }

    /// <summary>Positions the step puts in front of the encoder output in cross-attention; caches are sized with it.</summary>
    int CrossAttentionPrefixLength { get; }

    /// <summary>Encodes the source.</summary>
    /// <param name="inputIds">Source ids [batch, length].</param>
    /// <param name="attentionMask">Source mask [batch, length], or null for all ones.</param>
    /// <returns>The encoder output [batch, positions, hidden] and the mask over those positions that cross-attention uses.</returns>
    (Tensor Output, IntTensor? Mask) Encode(IntTensor inputIds, IntTensor? attentionMask);

    /// <summary>Runs the decoder on the new ids.</summary>
    /// <param name="decoderIds">[batch, fed]: the decoder ids the cache does not hold yet (every id without a cache).</param>
    /// <param name="encoderOutput">What <see cref="Encode"/> returned.</param>
    /// <param name="encoderMask">The mask <see cref="Encode"/> returned.</param>
    /// <param name="cache">The caches to fill and attend over (empty on the first call), or null.</param>
    /// <returns>Logits [batch, fed, vocab] whose last position scores the next token.</returns>
    Tensor Logits(IntTensor decoderIds, Tensor encoderOutput, IntTensor? encoderMask, EncoderDecoderCache? cache);
}
