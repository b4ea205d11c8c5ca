using System.Buffers;
using System.Text;
using Peft.Tokenizers.Models;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>
/// Byte-level BPE of a plain stretch of text without the general pipeline's per-piece strings and
/// span arrays: the split regex's pieces (matches and the gaps between, as the Isolated split gives
/// them) are written in the byte alphabet into a reused buffer and looked up in the model's piece
/// cache by span, so a cached piece allocates nothing. Token strings and offsets are optional.
/// Serves GPT-2's ByteLevel pre-tokenizer and the Split(regex)-then-ByteLevel sequence of
/// Llama 3, Qwen and most byte-level models since.
/// </summary>
internal static class ByteLevelIds
{
    /// <summary>
    /// The split pattern when <paramref name="preTokenizer"/> is one this path reproduces exactly:
    /// ByteLevel with GPT-2's regex and no prefix space, or Split(regex, Isolated) followed by a
    /// ByteLevel that only maps bytes; else null.
    /// </summary>
    public static PerThreadRegex? PatternOf(IPreTokenizer? preTokenizer) => preTokenizer switch
    {
        ByteLevelPreTokenizer { SplitsLikeGpt2: true } => ByteLevelPreTokenizer.Gpt2PerThread,
        SequencePreTokenizer { Parts: [SplitPreTokenizer { IsolatesMatches: true } split, ByteLevelPreTokenizer { OnlyMapsBytes: true }] } => split.Pattern,
        _ => null,
    };

    /// <param name="text">The stretch.</param>
    /// <param name="offset">Where the stretch starts in the input (for offsets).</param>
    /// <param name="model">The BPE model.</param>
    /// <param name="split">The split pattern (<see cref="PatternOf"/>).</param>
    /// <param name="ids">Receives the ids.</param>
    /// <param name="tokens">Receives the token strings, or null.</param>
    /// <param name="offsets">Receives each token's input span, or null (with <paramref name="tokens"/>).</param>
    public static void Encode(ReadOnlySpan<char> text, int offset, BpeModel model, PerThreadRegex split, List<int> ids, List<string>? tokens,
        List<(int Start, int End)>? offsets)
    {
        char[]? rentedChars = null;
        int[]? rentedSpans = null;
        // A UTF-16 unit is at most 3 UTF-8 bytes, each one byte character.
        int capacity = text.Length * 3;
        Span<char> buffer = capacity <= 768 ? stackalloc char[768] : (rentedChars = ArrayPool<char>.Shared.Rent(capacity));
        Span<int> spans = tokens is null ? default : capacity <= 768 ? stackalloc int[2 * 768] : (rentedSpans = ArrayPool<int>.Shared.Rent(2 * capacity));
        try
        {
            var pieces = new Pieces(buffer, spans, model, ids, tokens, offsets);
            int at = 0;
            foreach (var m in split.Current.EnumerateMatches(text))
            {
                if (m.Length == 0) continue;
                if (m.Index > at) pieces.Add(text[at..m.Index], offset + at);
                pieces.Add(text.Slice(m.Index, m.Length), offset + m.Index);
                at = m.Index + m.Length;
            }
            if (at < text.Length) pieces.Add(text[at..], offset + at);
        }
        finally
        {
            if (rentedChars is not null) ArrayPool<char>.Shared.Return(rentedChars);
            if (rentedSpans is not null) ArrayPool<int>.Shared.Return(rentedSpans);
        }
    }

    /// <summary>One piece at a time into the shared buffers.</summary>
    private readonly ref struct Pieces(Span<char> buffer, Span<int> spans, BpeModel model, List<int> ids, List<string>? tokens,
        List<(int Start, int End)>? offsets)
    {
        private readonly Span<char> _buffer = buffer;
        private readonly Span<int> _spans = spans;

        public void Add(ReadOnlySpan<char> piece, int start)
        {
            var map = ByteLevelAlphabet.ByteToChar;
            Span<byte> utf8 = stackalloc byte[4];
            int n = 0;
            for (int i = 0; i < piece.Length;)
            {
                char c = piece[i];
                if (c < 0x80)
                {
                    _buffer[n++] = map[c];
                    i++;
                    continue;
                }
                // A lone surrogate becomes U+FFFD's bytes, as Encoding.UTF8 writes it on the general path.
                Rune.DecodeFromUtf16(piece[i..], out var rune, out int used);
                int bytes = rune.EncodeToUtf8(utf8);
                for (int b = 0; b < bytes; b++) _buffer[n++] = map[utf8[b]];
                i += used;
            }
            var (pieceIds, pieceTokens, pieceSpans) = model.Lookup(_buffer[..n]);
            ids.AddRange(pieceIds);
            if (tokens is null) return;
            tokens.AddRange(pieceTokens);
            if (n == piece.Length)
            {
                // ASCII: byte characters and input characters coincide.
                foreach (var (from, to) in pieceSpans) offsets!.Add(to <= from ? (0, 0) : (start + from, start + to));
                return;
            }
            // Every byte of a character spans the whole character.
            for (int i = 0, at = 0; i < piece.Length;)
            {
                int used = 1, bytes = 1;
                if (piece[i] >= 0x80)
                {
                    Rune.DecodeFromUtf16(piece[i..], out var rune, out used);
                    bytes = rune.Utf8SequenceLength;
                }
                for (int b = 0; b < bytes; b++, at++)
                {
                    _spans[2 * at] = start + i;
                    _spans[2 * at + 1] = start + i + used;
                }
                i += used;
            }
            foreach (var (from, to) in pieceSpans) offsets!.Add(to <= from ? (0, 0) : (_spans[2 * from], _spans[2 * (to - 1) + 1]));
        }
    }
}
