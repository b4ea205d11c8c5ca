using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Peft.Tokenizers.Normalization;

/// <summary>
/// SentencePiece's precompiled charsmap (the <c>Precompiled</c> normalizer of T5, ALBERT, XLM-R
/// and other SentencePiece tokenizer.json files), applied the way Hugging Face's tokenizers do:
/// per extended grapheme cluster (this library's own UAX #29 tables), a cluster shorter than 6 UTF-8 bytes is looked up whole, and
/// the first (shortest) rule that matches a prefix of it replaces the whole cluster; otherwise
/// each character is looked up on its own and kept when no rule matches.
/// </summary>
/// <remarks>
/// The charsmap is a little-endian u32 byte length of the trie, the trie (Darts-clone double
/// array of u32 units over UTF-8 bytes), then the replacement strings (UTF-8, each ended by NUL)
/// that the trie's values point into.
/// </remarks>
internal sealed class PrecompiledNormalizer : INormalizer
{
    /// <summary>Clusters shorter than this many UTF-8 bytes are looked up whole (Hugging Face's rule).</summary>
    private const int WholeClusterBytes = 6;

    private readonly uint[] _trie;
    private readonly byte[] _replacements;

    /// <exception cref="FormatException">The charsmap is truncated or its replacements are not UTF-8.</exception>
    public PrecompiledNormalizer(byte[] charsmap)
    {
        ArgumentNullException.ThrowIfNull(charsmap);
        if (charsmap.Length < 4) throw new FormatException("precompiled_charsmap is shorter than its 4-byte header.");
        uint trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(charsmap);
        if (trieBytes > charsmap.Length - 4) throw new FormatException($"precompiled_charsmap says its trie has {trieBytes} bytes; only {charsmap.Length - 4} follow.");
        _trie = new uint[trieBytes / 4];
        for (int i = 0; i < _trie.Length; i++) _trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(charsmap.AsSpan(4 + 4 * i));
        _replacements = charsmap[(4 + _trie.Length * 4)..];
        if (!Utf8.IsValid(_replacements)) throw new FormatException("precompiled_charsmap's replacement strings are not valid UTF-8.");
        if (_trie.Length == 0) throw new FormatException("precompiled_charsmap has an empty trie.");
    }

    public AlignedText Normalize(AlignedText text)
    {
        string s = text.Text;
        AlignedTextBuilder? builder = null;
        Span<byte> utf8 = stackalloc byte[WholeClusterBytes];
        int i = 0;
        while (i < s.Length)
        {
            int clusterLength = GraphemeClusters.NextLength(s.AsSpan(i));
            var cluster = s.AsSpan(i, clusterLength);
            int byteCount = Utf8Length(cluster);
            if (byteCount < WholeClusterBytes)
            {
                Encoding.UTF8.GetBytes(cluster, utf8);
                int value = Lookup(utf8[..byteCount]);
                if (value >= 0)
                {
                    builder ??= Start(text, i);
                    AppendReplacement(builder, value, text.Starts[i], text.Ends[i + clusterLength - 1]);
                    i += clusterLength;
                    continue;
                }
            }
            for (int k = i; k < i + clusterLength;)
            {
                int charLength = char.IsHighSurrogate(s[k]) && k + 1 < i + clusterLength && char.IsLowSurrogate(s[k + 1]) ? 2 : 1;
                int written = Encoding.UTF8.GetBytes(s.AsSpan(k, charLength), utf8);
                int value = Lookup(utf8[..written]);
                if (value >= 0)
                {
                    builder ??= Start(text, k);
                    AppendReplacement(builder, value, text.Starts[k], text.Ends[k + charLength - 1]);
                }
                else if (builder is not null)
                {
                    for (int c = k; c < k + charLength; c++) builder.Append(s[c], text.Starts[c], text.Ends[c]);
                }
                k += charLength;
            }
            i += clusterLength;
        }
        return builder?.Build() ?? text;
    }

    /// <summary>A builder holding the unchanged characters before the first replacement.</summary>
    private static AlignedTextBuilder Start(AlignedText text, int upTo)
    {
        var builder = new AlignedTextBuilder(text.Length + 8);
        for (int c = 0; c < upTo; c++) builder.Append(text.Text[c], text.Starts[c], text.Ends[c]);
        return builder;
    }

    private void AppendReplacement(AlignedTextBuilder builder, int value, int start, int end)
    {
        var bytes = _replacements.AsSpan(value);
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0) bytes = bytes[..nul];
        if (bytes.IsEmpty) return;
        Span<char> chars = bytes.Length <= 128 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        int n = Encoding.UTF8.GetChars(bytes, chars);
        builder.Append(chars[..n], start, end);
    }

    /// <summary>
    /// The value of the shortest key in the trie that is a prefix of <paramref name="key"/> (a NUL
    /// byte ends the key), or -1. Hugging Face takes the first of sentencepiece's common-prefix
    /// results, which is the shortest.
    /// </summary>
    private int Lookup(ReadOnlySpan<byte> key)
    {
        var trie = _trie;
        uint node = Offset(trie[0]);
        foreach (byte b in key)
        {
            if (b == 0) break;
            node ^= b;
            if (node >= trie.Length) return -1;
            uint unit = trie[node];
            if ((unit & 0x800000FFu) != b) return -1;
            node ^= Offset(unit);
            if (((unit >> 8) & 1) != 0)
            {
                if (node >= trie.Length) return -1;
                int value = (int)(trie[node] & 0x7FFFFFFFu);
                return value < _replacements.Length ? value : -1;
            }
        }
        return -1;
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    private static int Utf8Length(ReadOnlySpan<char> text)
    {
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c < 0x80) n += 1;
            else if (c < 0x800) n += 2;
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                n += 4;
                i++;
            }
            else n += 3;
        }
        return n;
    }
}
