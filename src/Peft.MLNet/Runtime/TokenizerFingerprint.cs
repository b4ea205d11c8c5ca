using System.Security.Cryptography;
using System.Text;
using Peft.Tokenizers;

namespace Peft.MLNet.Runtime;

/// <summary>
/// What identifies a tokenizer supplied in code (one that no file in the base folder describes):
/// a SHA-256 over its vocabulary size, its special ids and the ids it gives a fixed probe text
/// (with and without special tokens). A saved model records it so that, after loading, the
/// tokenizer registered for it can be found and a different one is never used by mistake.
/// </summary>
internal static class TokenizerFingerprint
{
    // Covers ASCII words and punctuation, digits, whitespace runs, accents (composed and combining),
    // Hangul jamo, CJK, emoji and a control character: texts where tokenizers tend to differ.
    private const string Probe =
        "The quick brown fox jumps over the lazy dog. 0123456789 3.14 -42\n\n\t  spaces  and\ttabs\r\n" +
        "café cafe\u0301 naïve Ångström ß İstanbul \u1100\u1161\u11A8 한국어 日本語の文章 中文 ﬁ ①\u00A0 😀👍🏽 \u0007 <b>html</b> x+=1;";

    /// <summary>The fingerprint of <paramref name="tokenizer"/> (lower-case hex).</summary>
    public static string Of(Tokenizer tokenizer)
    {
        var text = new StringBuilder();
        text.Append("vocab ").Append(tokenizer.VocabularySize)
            .Append(" bos ").Append(tokenizer.BosTokenId).Append(" eos ").Append(tokenizer.EosTokenId)
            .Append(" pad ").Append(tokenizer.PadTokenId).Append(" unk ").Append(tokenizer.UnkTokenId);
        foreach (bool special in (bool[])[true, false])
            text.Append('\n').AppendJoin(',', tokenizer.Encode(Probe, addSpecialTokens: special).Ids);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
    }
}
