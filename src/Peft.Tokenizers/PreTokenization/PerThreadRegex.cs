using System.Text.RegularExpressions;

namespace Peft.Tokenizers.PreTokenization;

/// <summary>
/// One copy of a regex per thread. A .NET <see cref="Regex"/> lends its single cached matcher to
/// one caller at a time, so threads sharing one build a fresh matcher on most calls (~13 KB each,
/// and the time with it); encoding a batch on several threads needs a copy each.
/// </summary>
internal sealed class PerThreadRegex(Regex prototype)
{
    private readonly ThreadLocal<Regex> _copies = new(() => new Regex(prototype.ToString(), prototype.Options, prototype.MatchTimeout));

    /// <summary>The pattern, as given.</summary>
    public Regex Prototype { get; } = prototype;

    /// <summary>This thread's copy.</summary>
    public Regex Current => _copies.Value!;
}
