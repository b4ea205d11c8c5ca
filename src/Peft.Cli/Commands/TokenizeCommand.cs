using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Peft.Tokenizers;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft tokenize</c>: one JSON line per text with its ids, tokens and decoded text (special
/// tokens kept, no clean-up), from <c>--text</c> or a JSONL file of <c>{"text": ...}</c> lines;
/// <c>--decode 1,2,3</c> prints the text of ids.
/// </summary>
internal sealed class TokenizeCommand : CliCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Option<string> _tokenizer = new("--tokenizer") { Description = "model folder, tokenizer.json or SentencePiece .model (required)", HelpName = "DIR|FILE" };
    private readonly Option<string> _text = new("--text") { Description = "a text to encode", HelpName = "TEXT" };
    private readonly Option<string> _input = new("--input") { Description = "JSONL file of {\"text\": ...} lines to encode", HelpName = "FILE.jsonl" };
    private readonly Option<string> _decode = new("--decode") { Description = "comma-separated token ids to decode", HelpName = "ID,ID,..." };
    private readonly Option<bool> _special = new("--add-special-tokens") { Description = "add the post-processor's special tokens (bos/eos)" };

    public override string Name => "tokenize";

    public override string Description => "Encode text to token ids (JSON lines) or decode ids with a model's tokenizer.json.";

    public override string Example => "peft tokenize --tokenizer ./gpt2 --text \"Hello world\"";

    public override int Order => 70;

    protected override void Define(Command command)
    {
        foreach (var option in new Option[] { _tokenizer, _text, _input, _decode, _special }) command.Options.Add(option);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        string path = Required(result, _tokenizer);
        int given = new[] { _text, _input, _decode }.Count(o => result.GetValue(o) is not null);
        if (given != 1) throw new UsageException("tokenize: give exactly one of --text, --input and --decode.");
        Tokenizer tokenizer;
        try
        {
            // A folder may also hold only a SentencePiece model (tokenizer.model), read through ML.NET.
            tokenizer = File.Exists(path) ? Tokenizer.Load(path)
                : Directory.Exists(path) ? Tokenizer.TryLoad(path) ?? throw new UsageException($"tokenize: no {Tokenizer.FileName} (nor tokenizer.model) at {path}.")
                : throw new UsageException($"tokenize: no {Tokenizer.FileName} at {path}.");
        }
        catch (TokenizerFormatException ex)
        {
            throw new UsageException($"tokenize: {ex.Message}");
        }
        var stdout = context.Out;
        if (result.GetValue(_decode) is { } list)
        {
            var ids = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s =>
                int.TryParse(s, out int id)
                    ? id
                    : throw new UsageException($"tokenize: --decode expects comma-separated token ids; '{s}' is not one.")).ToArray();
            stdout.WriteLine(tokenizer.Decode(ids));
            return 0;
        }
        bool special = result.GetValue(_special);
        if (result.GetValue(_text) is { } text)
        {
            stdout.WriteLine(Line(tokenizer, text, special));
            return 0;
        }
        string input = result.GetValue(_input)!;
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
