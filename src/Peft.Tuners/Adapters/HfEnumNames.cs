using System.Text;
using System.Text.Json;

namespace Peft.Tuners.Adapters;

/// <summary>
/// The strings HF PEFT writes for options with fixed values, mapped to this library's enums at the
/// file boundary: a member named <c>SampleVocab</c> is <c>SAMPLE_VOCAB</c> (or <c>sample_vocab</c>
/// for the fields PEFT writes in lower case, such as LoRA's <c>bias</c>).
/// </summary>
internal static class HfEnumNames
{
    /// <summary>HF's string for <paramref name="value"/>.</summary>
    public static string ToHf<TEnum>(TEnum value, bool lowerCase = false)
        where TEnum : struct, Enum
    {
        string name = value.ToString();
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) text.Append('_');
            text.Append(lowerCase ? char.ToLowerInvariant(name[i]) : char.ToUpperInvariant(name[i]));
        }
        return text.ToString();
    }

    /// <summary>Reads <paramref name="field"/> of <paramref name="root"/> (absent or null gives <paramref name="fallback"/>).</summary>
    /// <exception cref="AdapterConfigException">A string that names no member; the message lists the supported values.</exception>
    public static TEnum Read<TEnum>(JsonElement root, string field, TEnum fallback, string method, bool lowerCase = false)
        where TEnum : struct, Enum
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return fallback;
        string? text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        foreach (var member in Enum.GetValues<TEnum>())
            if (text is not null && ToHf(member, lowerCase) == text) return member;
        throw new AdapterConfigException($"{method} config: '{field}' is {value.GetRawText()}; supported: {Supported<TEnum>(lowerCase)}.");
    }

    /// <summary>"RANDOM, SAMPLE_VOCAB, TEXT": every member's HF string, for messages.</summary>
    public static string Supported<TEnum>(bool lowerCase = false)
        where TEnum : struct, Enum => string.Join(", ", Enum.GetValues<TEnum>().Select(m => ToHf(m, lowerCase)));

    /// <summary>Fails when <paramref name="value"/> is not a named member (a cast from an integer).</summary>
    public static void RequireDefined<TEnum>(TEnum value, string field, string method, bool lowerCase = false)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw new AdapterConfigException($"{method} config: '{field}' is {Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)}, " +
                $"not a {typeof(TEnum).Name}; supported: {Supported<TEnum>(lowerCase)}.");
    }
}
