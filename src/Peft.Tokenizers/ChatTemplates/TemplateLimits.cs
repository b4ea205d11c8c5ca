using System.Globalization;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// What one render may build and run: far beyond any chat prompt, short of a template (or a file posing as one) exhausting
/// memory or never finishing. Python's jinja2 has no such limits; past them it would run out of memory or hang, here the
/// render fails with <see cref="ChatTemplateException"/>.
/// </summary>
internal static class TemplateLimits
{
    /// <summary>Longest string or list a render builds, its output included (16 Mi characters or items).</summary>
    public const long MaxLength = 1 << 24;

    /// <summary>Loop iterations and macro calls in one render.</summary>
    public const long MaxSteps = 20_000_000;

    /// <summary>Fails when something a template asks for would be longer than <see cref="MaxLength"/>.</summary>
    /// <exception cref="ChatTemplateException">It would.</exception>
    public static void CheckLength(long length, string what)
    {
        if (length > MaxLength)
            throw new ChatTemplateException(string.Create(CultureInfo.InvariantCulture,
                $"{what} would be {length:N0} long; a chat template may build at most {MaxLength:N0} (a runaway template?)."));
    }

    /// <summary><paramref name="count"/> copies of something <paramref name="length"/> long, checked without overflow.</summary>
    public static void CheckRepeat(long length, long count, string what)
    {
        if (length > 0 && count > 0 && count > MaxLength / length) CheckLength(MaxLength + 1, what);
    }
}
