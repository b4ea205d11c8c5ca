using System.Globalization;
using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// Python's <c>datetime.strftime</c> on Linux (glibc, C locale) for a naive local time: English names, %z and %Z empty,
/// glibc's <c>%-d</c> style flags that drop padding.
/// </summary>
internal static class PyStrftime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string Format(DateTime time, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            char flag = '\0';
            char directive = format[++i];
            if (directive is '-' or '_' or '0' or '^' && i + 1 < format.Length)
            {
                flag = directive;
                directive = format[++i];
            }
            string? text = Directive(time, directive);
            if (text is null)
            {
                sb.Append('%');
                if (flag != '\0') sb.Append(flag);
                sb.Append(directive);
                continue;
            }
            sb.Append(ApplyFlag(text, flag));
        }
        return sb.ToString();
    }

    private static string ApplyFlag(string text, char flag)
    {
        switch (flag)
        {
            case '-':
                string trimmed = text.TrimStart('0', ' ');
                return trimmed.Length == 0 ? "0" : trimmed;
            case '_':
                int zeros = 0;
                while (zeros < text.Length - 1 && text[zeros] == '0') zeros++;
                return new string(' ', zeros) + text[zeros..];
            case '0': return text.Replace(' ', '0');
            case '^': return text.ToUpperInvariant();
            default: return text;
        }
    }

    private static string Two(int value) => value.ToString("00", CultureInfo.InvariantCulture);

    private static string? Directive(DateTime t, char directive)
    {
        int hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
        return directive switch
        {
            'a' => Days[(int)t.DayOfWeek][..3],
            'A' => Days[(int)t.DayOfWeek],
            'b' or 'h' => Months[t.Month - 1][..3],
            'B' => Months[t.Month - 1],
            'c' => $"{Days[(int)t.DayOfWeek][..3]} {Months[t.Month - 1][..3]} {t.Day,2} {Two(t.Hour)}:{Two(t.Minute)}:{Two(t.Second)} {t.Year}",
            'C' => Two(t.Year / 100),
            'd' => Two(t.Day),
            'D' => $"{Two(t.Month)}/{Two(t.Day)}/{Two(t.Year % 100)}",
            'e' => t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2),
            'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture),
            'F' => $"{t.Year:0000}-{Two(t.Month)}-{Two(t.Day)}",
            'G' => ISOWeek.GetYear(t).ToString("0000", CultureInfo.InvariantCulture),
            'g' => Two(ISOWeek.GetYear(t) % 100),
            'H' => Two(t.Hour),
            'I' => Two(hour12),
            'j' => t.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
            'k' => t.Hour.ToString(CultureInfo.InvariantCulture).PadLeft(2),
            'l' => hour12.ToString(CultureInfo.InvariantCulture).PadLeft(2),
            'm' => Two(t.Month),
            'M' => Two(t.Minute),
            'n' => "\n",
            'p' => t.Hour < 12 ? "AM" : "PM",
            'P' => t.Hour < 12 ? "am" : "pm",
            'r' => $"{Two(hour12)}:{Two(t.Minute)}:{Two(t.Second)} {(t.Hour < 12 ? "AM" : "PM")}",
            'R' => $"{Two(t.Hour)}:{Two(t.Minute)}",
            'S' => Two(t.Second),
            't' => "\t",
            'T' => $"{Two(t.Hour)}:{Two(t.Minute)}:{Two(t.Second)}",
            'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
            'U' => Two((t.DayOfYear + 6 - (int)t.DayOfWeek) / 7),
            'V' => Two(ISOWeek.GetWeekOfYear(t)),
            'w' => ((int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
            'W' => Two((t.DayOfYear + 6 - ((int)t.DayOfWeek + 6) % 7) / 7),
            'x' => $"{Two(t.Month)}/{Two(t.Day)}/{Two(t.Year % 100)}",
            'X' => $"{Two(t.Hour)}:{Two(t.Minute)}:{Two(t.Second)}",
            'y' => Two(t.Year % 100),
            'Y' => t.Year.ToString(CultureInfo.InvariantCulture),
            'z' or 'Z' => "",
            '%' => "%",
            _ => null,
        };
    }
}
