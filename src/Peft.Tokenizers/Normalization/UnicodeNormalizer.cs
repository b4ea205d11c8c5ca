using System.Text;

namespace Peft.Tokenizers.Normalization;

/// <summary>
/// NFC, NFD, NFKC or NFKD from this library's own Unicode tables (no ICU, so the same under
/// InvariantGlobalization), by the Unicode version of age code <paramref name="maxAge"/>:
/// tokenizer.json files get Unicode 9.0, the version Hugging Face's Rust tokenizers normalize by.
/// A segment that changes maps every output character to the segment's original span; unchanged
/// characters keep their own spans.
/// </summary>
internal sealed class UnicodeNormalizer(NormalizationForm form, int maxAge = UnicodeNormalizationData.HuggingFaceAge) : INormalizer
{
    public NormalizationForm Form { get; } = form;

    public int MaxAge { get; } = maxAge;

    public AlignedText Normalize(AlignedText text)
    {
        string s = text.Text;
        if (UnicodeNormalization.QuickLength(s, Form, MaxAge) == s.Length) return text;
        var sink = new AlignedSink(text, new AlignedTextBuilder(s.Length + 8));
        UnicodeNormalization.Run(s, Form, MaxAge, ref sink);
        return sink.Builder.Build();
    }

    private readonly struct AlignedSink(AlignedText text, AlignedTextBuilder builder) : UnicodeNormalization.ISegmentSink
    {
        public AlignedTextBuilder Builder => builder;

        public void Unchanged(int from, int to)
        {
            var starts = text.Starts;
            var ends = text.Ends;
            for (int i = from; i < to; i++) builder.Append(text.Text[i], starts[i], ends[i]);
        }

        public void Changed(ReadOnlySpan<char> normalized, int from, int to) => builder.Append(normalized, text.Starts[from], text.Ends[to - 1]);
    }
}
