using System.Text.Encodings.Web;
using System.Text.Json;
using Peft.Tokenizers;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft tokenize</c>: one JSON line per text with its ids, tokens and decoded text (special
/// tokens kept, no clean-up), from <c>--text</c> or a JSONL file of <c>{"text": ...}</c> lines;
/// <c>--decode 1,2,3</c> prints the text of ids.
/// </summary>
internal static class TokenizeCommand
{
    public const string Usage = "peft tokenize --tokenizer DIR|FILE (--text TEXT | --input FILE.jsonl | --decode ID,ID,...) [--add-special-tokens]";

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Run(IReadOnlyList<string> argv, TextWriter stdout)
    {
        var args = new CommandLine("tokenize", argv, ["--tokenizer", "--text", "--input", "--decode"], ["--add-special-tokens"]);
        string path = args.Required("--tokenizer");
        int given = new[] { "--text", "--input", "--decode" }.Count(o => args.Optional(o) is not null);
        if (given != 1) throw new UsageException("tokenize: give exactly one of --text, --input and --decode.");
        if (!File.Exists(path) && !File.Exists(Path.Combine(path, Tokenizer.FileName)))
            throw new UsageException($"tokenize: no {Tokenizer.FileName} at {path}.");
        Tokenizer tokenizer;
        try
        {
            tokenizer = Tokenizer.Load(path);
        }
        catch (TokenizerFormatException ex)
        {
            throw new UsageException($"tokenize: {ex.Message}");
        }
        if (args.Optional("--decode") is { } list)
        {
            var ids = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s =>
                int.TryParse(s, out int id)
                    ? id
                    : throw new UsageException($"tokenize: --decode expects comma-separated token ids; '{s}' is not one.")).ToArray();
            stdout.WriteLine(tokenizer.Decode(ids));
            return 0;
        }
        bool special = args.Has("--add-special-tokens");
        if (args.Optional("--text") is { } text)
        {
            stdout.WriteLine(Line(tokenizer, text, special));
            return 0;
        }
        string input = args.Required("--input");
        if (!File.Exists(input)) throw new UsageException($"tokenize: --input {input} does not exist.");
        int number = 0;
        foreach (string line in File.ReadLines(input))
        {
            number++;
            if (line.Trim().Length == 0) continue;
            string value;
            try
            {
                using var doc = JsonDocument.Parse(line);
                value = doc.RootElement.ValueKind == JsonValueKind.Object
                    && doc.RootElement.TryGetProperty("text", out var t)
                    && t.ValueKind == JsonValueKind.String
                    ? t.GetString()! : throw new UsageException($"tokenize: {input} line {number} is not an object with a \"text\" string.");
            }
            catch (JsonException ex)
            {
                throw new UsageException($"tokenize: {input} line {number} is not valid JSON ({ex.Message}).");
            }
            stdout.WriteLine(Line(tokenizer, value, special));
        }
        return 0;
    }

    private static string Line(Tokenizer tokenizer, string text, bool special)
    {
        var encoding = tokenizer.Encode(text, special);
        return JsonSerializer.Serialize(new { ids = encoding.Ids, tokens = encoding.Tokens, decoded = tokenizer.Decode(encoding.Ids) }, Json);
    }
}
