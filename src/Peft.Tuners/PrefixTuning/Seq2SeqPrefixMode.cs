namespace Peft.Tuners.PrefixTuning;

/// <summary>Where prefix tuning puts prefixes in an encoder-decoder model.</summary>
public enum Seq2SeqPrefixMode
{
    /// <summary>DECODER: in front of the decoder's self-attention only, as HF PEFT does.</summary>
    Decoder,

    /// <summary>ALL: in front of the encoder's self-attention, the decoder's self-attention and cross-attention too, as the prefix-tuning paper does.</summary>
    All,
}
