using System.Globalization;
using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// Splits template source into tokens the way jinja2's lexer does under transformers' settings:
/// trim_blocks (the first newline after a block or comment tag is dropped), lstrip_blocks (spaces and tabs before a
/// block or comment tag at the start of a line are dropped, unless the tag opens with <c>+</c>), <c>-</c> whitespace
/// control on either side of any tag, and keep_trailing_newline off.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    private readonly string _source;
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lineStarting = true;
    private List<int>? _lineStarts;

    private Lexer(string source) => _source = source;

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(Normalize(source));
        lexer.Run();
        return lexer._tokens;
    }

    // jinja2 turns every \r\n, \r and \n into \n and drops one trailing newline (keep_trailing_newline=False).
    private static string Normalize(string source)
    {
        string text = source.Replace("\r\n", "\n").Replace('\r', '\n');
        return text.EndsWith('\n') ? text[..^1] : text;
    }

    private void Run()
    {
        while (_pos < _source.Length)
        {
            int tagAt = FindTagStart(_pos);
            if (tagAt < 0)
            {
                AddData(_source[_pos..], _pos);
                _pos = _source.Length;
                break;
            }

            string text = _source[_pos..tagAt];
            char kind = _source[tagAt + 1];
            int afterDelimiter = tagAt + 2;
            char sign = afterDelimiter < _source.Length && (_source[afterDelimiter] is '-' or '+') ? _source[afterDelimiter] : '\0';
            bool isRaw = kind == '%' && TryMatchRawBegin(tagAt, out _);

            if (sign == '-') text = PythonText.RStripWhitespace(text);
            else if (sign != '+' && kind != '{') text = LStripBlock(text);
            AddData(text, _pos);

            if (isRaw)
            {
                TryMatchRawBegin(tagAt, out int rawBodyStart);
                LexRaw(rawBodyStart);
                continue;
            }

            _pos = afterDelimiter + (sign != '\0' ? 1 : 0);
            switch (kind)
            {
                case '#': LexComment(tagAt); break;
                case '{': LexTag(tagAt, TokenKind.VariableBegin, TokenKind.VariableEnd, "}}"); break;
                default: LexTag(tagAt, TokenKind.BlockBegin, TokenKind.BlockEnd, "%}"); break;
            }
        }
        var (line, column) = Position(_source.Length);
        _tokens.Add(new Token(TokenKind.End, "", null, line, column));
    }

    // lstrip_blocks: white space (Python's \s, so a no-break space too) between the line start and the tag is removed.
    private string LStripBlock(string text)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !_lineStarting) return text;
        for (int i = lineStart; i < text.Length; i++)
        {
            if (!PythonText.IsWhitespace(text[i])) return text;
        }
        return text[..lineStart];
    }

    private int FindTagStart(int from)
    {
        for (int i = from; i < _source.Length - 1; i++)
        {
            if (_source[i] == '{' && _source[i + 1] is '{' or '%' or '#') return i;
        }
        return -1;
    }

    private bool TryMatchRawBegin(int tagAt, out int bodyStart)
    {
        bodyStart = 0;
        int i = tagAt + 2;
        if (i < _source.Length && _source[i] is '-' or '+') i++;
        while (i < _source.Length && char.IsWhiteSpace(_source[i])) i++;
        if (string.CompareOrdinal(_source, i, "raw", 0, 3) != 0) return false;
        i += 3;
        while (i < _source.Length && char.IsWhiteSpace(_source[i])) i++;
        if (string.CompareOrdinal(_source, i, "-%}", 0, 3) == 0)
        {
            i += 3;
            while (i < _source.Length && char.IsWhiteSpace(_source[i])) i++;
        }
        else if (string.CompareOrdinal(_source, i, "%}", 0, 2) == 0) i += 2;
        else return false;
        bodyStart = i;
        return true;
    }

    private void LexRaw(int bodyStart)
    {
        for (int i = bodyStart; i < _source.Length - 1; i++)
        {
            if (_source[i] != '{' || _source[i + 1] != '%') continue;
            int j = i + 2;
            char sign = j < _source.Length && _source[j] is '-' or '+' ? _source[j] : '\0';
            if (sign != '\0') j++;
            while (j < _source.Length && char.IsWhiteSpace(_source[j])) j++;
            if (string.CompareOrdinal(_source, j, "endraw", 0, 6) != 0) continue;
            j += 6;
            while (j < _source.Length && char.IsWhiteSpace(_source[j])) j++;
            string text = _source[bodyStart..i];
            if (sign == '-') text = PythonText.RStripWhitespace(text);
            else if (sign != '+') text = LStripBlock(text);
            AddData(text, bodyStart);
            _pos = j;
            if (!TryConsumeBlockEnd("%}")) throw Error("missing end of raw directive", j);
            return;
        }
        throw Error("Missing end of raw directive", bodyStart);
    }

    private void LexComment(int tagAt)
    {
        int close = _source.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (close < 0) throw Error("Missing end of comment tag", tagAt);
        int markerAt = close;
        if (close > _pos && _source[close - 1] is '-' or '+') markerAt = close - 1;
        _pos = markerAt;
        TryConsumeBlockEnd("#}");
    }

    // Block and comment ends: "-%}" eats all following whitespace, "+%}" nothing, "%}" one newline (trim_blocks).
    private bool TryConsumeBlockEnd(string close)
    {
        int start = _pos;
        if (At("-" + close))
        {
            _pos += 3;
            while (_pos < _source.Length && PythonText.IsWhitespace(_source[_pos])) _pos++;
        }
        else if (At("+" + close)) _pos += 3;
        else if (At(close))
        {
            _pos += 2;
            if (_pos < _source.Length && _source[_pos] == '\n') _pos++;
        }
        else return false;
        _lineStarting = _pos > start && _source[_pos - 1] == '\n';
        return true;
    }

    private bool TryConsumeVariableEnd()
    {
        int start = _pos;
        if (At("-}}"))
        {
            _pos += 3;
            while (_pos < _source.Length && PythonText.IsWhitespace(_source[_pos])) _pos++;
        }
        else if (At("}}")) _pos += 2;
        else return false;
        _lineStarting = _pos > start && _source[_pos - 1] == '\n';
        return true;
    }

    private bool At(string text) => string.CompareOrdinal(_source, _pos, text, 0, text.Length) == 0;

    private void LexTag(int tagAt, TokenKind begin, TokenKind end, string close)
    {
        Add(begin, _source.Substring(tagAt, 2), null, tagAt);
        var balancing = new Stack<char>();
        while (true)
        {
            while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos])) _pos++;
            if (_pos >= _source.Length) throw Error($"unexpected end of template, expected '{close}'", tagAt);
            int start = _pos;
            if (balancing.Count == 0 && (begin == TokenKind.BlockBegin ? TryConsumeBlockEnd(close) : TryConsumeVariableEnd()))
            {
                Add(end, close, null, start);
                return;
            }

            char c = _source[_pos];
            if (char.IsAsciiDigit(c)) LexNumber();
            else if (c == '_' || char.IsLetter(c)) LexName();
            else if (c is '\'' or '"') LexString();
            else
            {
                string? op = Operators.FirstOrDefault(At);
                if (op is null) throw Error($"unexpected char '{c}'", _pos);
                if (op is "(" or "[" or "{") balancing.Push(op switch { "(" => ')', "[" => ']', _ => '}' });
                else if (op is ")" or "]" or "}")
                {
                    if (balancing.Count == 0) throw Error($"unexpected '{op}'", _pos);
                    char expected = balancing.Pop();
                    if (expected != op[0]) throw Error($"unexpected '{op}', expected '{expected}'", _pos);
                }
                Add(TokenKind.Operator, op, null, _pos);
                _pos += op.Length;
            }
        }
    }

    private void LexName()
    {
        int start = _pos;
        while (_pos < _source.Length && (_source[_pos] == '_' || char.IsLetterOrDigit(_source[_pos]))) _pos++;
        Add(TokenKind.Name, _source[start.._pos], null, start);
    }

    private void LexNumber()
    {
        int start = _pos;
        SkipDigits();
        bool isFloat = false;
        // "1.5" is a float but "x.0.1" (attribute access after a dot) never starts one.
        bool afterDot = start > 0 && _source[start - 1] == '.';
        if (!afterDot && _pos + 1 < _source.Length && _source[_pos] == '.' && char.IsAsciiDigit(_source[_pos + 1]))
        {
            _pos++;
            SkipDigits();
            isFloat = true;
        }
        if (!afterDot && _pos < _source.Length && _source[_pos] is 'e' or 'E')
        {
            int save = _pos;
            _pos++;
            if (_pos < _source.Length && _source[_pos] is '+' or '-') _pos++;
            if (_pos < _source.Length && char.IsAsciiDigit(_source[_pos]))
            {
                SkipDigits();
                isFloat = true;
            }
            else _pos = save;
        }
        string text = _source[start.._pos];
        string digits = text.Replace("_", "");
        if (isFloat) Add(TokenKind.Float, text, double.Parse(digits, CultureInfo.InvariantCulture), start);
        else if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value)) Add(TokenKind.Integer, text, value, start);
        else Add(TokenKind.Float, text, double.Parse(digits, CultureInfo.InvariantCulture), start);
    }

    private void SkipDigits()
    {
        while (_pos < _source.Length &&
               (char.IsAsciiDigit(_source[_pos]) || (_source[_pos] == '_' && _pos + 1 < _source.Length && char.IsAsciiDigit(_source[_pos + 1]))))
            _pos++;
    }

    private void LexString()
    {
        int start = _pos;
        char quote = _source[_pos++];
        var raw = new StringBuilder();
        while (true)
        {
            if (_pos >= _source.Length) throw Error("unexpected end of string", start);
            char c = _source[_pos];
            if (c == quote) break;
            if (c == '\\' && _pos + 1 < _source.Length)
            {
                raw.Append(c).Append(_source[_pos + 1]);
                _pos += 2;
                continue;
            }
            raw.Append(c);
            _pos++;
        }
        _pos++;
        Add(TokenKind.String, _source[start.._pos], Unescape(raw.ToString(), start), start);
    }

    // Python's "unicode-escape" decoding, which jinja2 applies to string literals; unknown escapes stay as written.
    private string Unescape(string text, int at)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '\\' || i + 1 >= text.Length)
            {
                sb.Append(c);
                continue;
            }
            char e = text[++i];
            switch (e)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x': i = AppendHex(sb, text, i, 2, at); break;
                case 'u': i = AppendHex(sb, text, i, 4, at); break;
                case 'U': i = AppendHex(sb, text, i, 8, at); break;
                case >= '0' and <= '7':
                    int value = 0, n = 0;
                    while (n < 3 && i < text.Length && text[i] is >= '0' and <= '7')
                    {
                        value = value * 8 + (text[i] - '0');
                        i++;
                        n++;
                    }
                    i--;
                    sb.Append((char)value);
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        return sb.ToString();
    }

    private int AppendHex(StringBuilder sb, string text, int escapeAt, int digits, int at)
    {
        if (escapeAt + digits >= text.Length ||
            !int.TryParse(text.AsSpan(escapeAt + 1, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
            throw Error("truncated \\" + text[escapeAt] + " escape in string literal", at);
        // Eight hex digits parse as a two's-complement int: \UFFFFFFFF is -1 (afl), as illegal as anything past U+10FFFF.
        if (code is < 0 or > 0x10FFFF) throw Error("illegal Unicode character in string literal", at);
        // Python allows a lone surrogate here; .NET strings can hold one too.
        if (code is >= 0xD800 and <= 0xDFFF) sb.Append((char)code);
        else sb.Append(char.ConvertFromUtf32(code));
        return escapeAt + digits;
    }

    private void AddData(string text, int at)
    {
        if (text.Length > 0) Add(TokenKind.Data, text, text, at);
    }

    private void Add(TokenKind kind, string text, object? value, int at)
    {
        var (line, column) = Position(at);
        _tokens.Add(new Token(kind, text, value, line, column));
    }

    private (int Line, int Column) Position(int at)
    {
        if (_lineStarts is null)
        {
            _lineStarts = [0];
            for (int i = 0; i < _source.Length; i++) if (_source[i] == '\n') _lineStarts.Add(i + 1);
        }
        int index = _lineStarts.BinarySearch(at);
        if (index < 0) index = ~index - 1;
        return (index + 1, at - _lineStarts[index] + 1);
    }

    private ChatTemplateSyntaxException Error(string message, int at)
    {
        var (line, column) = Position(at);
        return new ChatTemplateSyntaxException(message, line, column);
    }
}
