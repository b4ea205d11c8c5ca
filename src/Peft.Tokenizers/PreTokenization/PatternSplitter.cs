using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>Splits text at the matches of a regex (or a literal string) with one of the split behaviours.</summary>
internal static class PatternSplitter
{
    public static void Split(AlignedText aligned, Regex pattern, SplitBehavior behavior, bool invert, List<AlignedText> output)
    {
        string text = aligned.Text;
        // Spans with a flag telling whether they matched the pattern (inverted: the matches are the content).
        var spans = new List<(int Start, int Length, bool Match)>();
        int at = 0;
        // ValueMatch enumeration allocates no Match objects.
        foreach (var m in pattern.EnumerateMatches(text))
        {
            if (m.Length == 0) continue;
            if (m.Index > at) spans.Add((at, m.Index - at, invert));
            spans.Add((m.Index, m.Length, !invert));
            at = m.Index + m.Length;
        }
        if (at < text.Length) spans.Add((at, text.Length - at, invert));
        var pieces = new List<(int Start, int End)>();
        Emit(spans, behavior, pieces);
        foreach (var (start, end) in pieces) output.Add(aligned.Slice(start, end - start));
    }

    private static void Emit(List<(int Start, int Length, bool Match)> spans, SplitBehavior behavior, List<(int Start, int End)> output)
    {
        switch (behavior)
        {
            case SplitBehavior.Removed:
                foreach (var s in spans) if (!s.Match) output.Add((s.Start, s.Start + s.Length));
                break;
            case SplitBehavior.Isolated:
                foreach (var s in spans) output.Add((s.Start, s.Start + s.Length));
                break;
            case SplitBehavior.Contiguous:
                for (int i = 0; i < spans.Count;)
                {
                    int start = spans[i].Start, end = start + spans[i].Length;
                    bool match = spans[i].Match;
                    int j = i + 1;
                    while (match && j < spans.Count && spans[j].Match) end = spans[j].Start + spans[j++].Length;
                    output.Add((start, end));
                    i = j;
                }
                break;
            case SplitBehavior.MergedWithPrevious:
            {
                int start = -1, end = -1;
                foreach (var s in spans)
                {
                    if (s.Match)
                    {
                        output.Add(start >= 0 ? (start, (s.Start + s.Length)) : (s.Start, s.Start + s.Length));
                        start = -1;
                        continue;
                    }
                    if (start >= 0) output.Add((start, end));
                    (start, end) = (s.Start, s.Start + s.Length);
                }
                if (start >= 0) output.Add((start, end));
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                int pending = -1;
                foreach (var s in spans)
                {
                    if (s.Match)
                    {
                        if (pending >= 0) output.Add((pending, s.Start));
                        pending = s.Start;
                        continue;
                    }
                    int start = pending >= 0 ? pending : s.Start;
                    output.Add((start, (s.Start + s.Length)));
                    pending = -1;
                }
                if (pending >= 0) output.Add((pending, spans[^1].Start + spans[^1].Length));
                break;
            }
        }
    }
}
