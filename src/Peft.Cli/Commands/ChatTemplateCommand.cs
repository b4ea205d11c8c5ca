using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft chat-template</c>: renders a chat template for checks. Each JSONL input line is
/// <c>{"messages": [...], "tools": [...]|null, "add_generation_prompt": bool, "variables": {...}}</c> and
/// gives one output line, <c>{"text": "..."}</c> or <c>{"error": "message"}</c> (a template's
/// <c>raise_exception</c> message verbatim). The template is a Jinja file, a tokenizer_config.json, or
/// a model folder (whose special tokens are then passed too, under the line's variables).
/// </summary>
internal sealed class ChatTemplateCommand : CliCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Option<string> _template = new("--template")
    {
        Description = "a Jinja template file, a tokenizer_config.json, or a model folder (required)",
        HelpName = "FILE|DIR",
    };

    private readonly Option<string> _input = new("--input") { Description = "JSONL of render requests (required)", HelpName = "FILE.jsonl" };
    private readonly Option<string> _name = new("--name") { Description = "which of a model's named templates (default: transformers' choice)", HelpName = "NAME" };
    private readonly Option<string> _now = new("--now") { Description = "the time strftime_now reads (ISO 8601, local), to pin renders", HelpName = "TIME" };

    public override string Name => "chat-template";

    public override string Description => "Render a chat template for conversations in a JSONL file (one JSON line out per line in).";

    public override string Example => "peft chat-template --template ./qwen3 --input conversations.jsonl --now 2025-03-07T09:05:03";

    public override int Order => 90;

    protected override void Define(Command command)
    {
        foreach (var option in new Option[] { _template, _input, _name, _now }) command.Options.Add(option);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        string template = Required(result, _template), input = Required(result, _input);
        if (!File.Exists(input)) throw new UsageException($"{Name}: --input {input} does not exist.");
        var clock = result.GetValue(_now) is { } now ? ChatTemplateContext.FixedClock(ParseTime(now)) : TimeProvider.System;
        var (templates, single) = Load(template);
        int number = 0;
        foreach (string line in File.ReadLines(input))
        {
            number++;
            if (line.Trim().Length == 0) continue;
            var request = Parse(input, number, line);
            context.Out.WriteLine(Render(templates, single, request, result.GetValue(_name), clock));
        }
        return 0;
    }

    private (TokenizerChatTemplates? Templates, ChatTemplate? Single) Load(string path)
    {
        try
        {
            if (Directory.Exists(path))
                return (TokenizerChatTemplates.Load(path) ?? throw new UsageException($"{Name}: {path} has no chat template."), null);
            if (!File.Exists(path)) throw new UsageException($"{Name}: --template {path} does not exist.");
            // A tokenizer_config.json is read with its folder, as transformers reads it (chat_template.jinja there wins).
            if (Path.GetFileName(path).Equals("tokenizer_config.json", StringComparison.OrdinalIgnoreCase))
                return (TokenizerChatTemplates.Load(Path.GetDirectoryName(Path.GetFullPath(path))!)
                    ?? throw new UsageException($"{Name}: {path} has no chat_template."), null);
            return (null, ChatTemplate.Parse(File.ReadAllText(path)));
        }
        catch (ChatTemplateSyntaxException ex)
        {
            throw new UsageException($"{Name}: {path}: line {ex.Line}, column {ex.Column}: {ex.Message}");
        }
    }

    private JsonObject Parse(string file, int number, string line)
    {
        JsonObject request;
        try
        {
            request = Peft.Shared.StrictJson.Parse(line) as JsonObject
                ?? throw new UsageException($"{file}:{number}: expected a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{file}:{number}: not valid JSON ({ex.Message}).");
        }
        if (request["messages"] is not JsonArray) throw new UsageException($"{file}:{number}: \"messages\" must be a list of message objects.");
        if (request["tools"] is { } tools && tools is not JsonArray) throw new UsageException($"{file}:{number}: \"tools\" must be a list or null.");
        if (request["variables"] is { } variables && variables is not JsonObject) throw new UsageException($"{file}:{number}: \"variables\" must be an object.");
        if (request["add_generation_prompt"] is { } agp && agp.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            throw new UsageException($"{file}:{number}: \"add_generation_prompt\" must be true or false.");
        return request;
    }

    private static string Render(TokenizerChatTemplates? templates, ChatTemplate? single, JsonObject request, string? name, TimeProvider clock)
    {
        var messages = request["messages"]!.AsArray().DeepClone().AsArray();
        var tools = request["tools"]?.AsArray().DeepClone().AsArray();
        bool addGenerationPrompt = request["add_generation_prompt"]?.GetValue<bool>() ?? false;
        var variables = new Dictionary<string, JsonNode?>();
        foreach (var (key, value) in request["variables"]?.AsObject() ?? []) variables[key] = value?.DeepClone();
        try
        {
            string text = single is not null
                ? single.Render(new ChatTemplateContext
                {
                    Messages = messages, Tools = tools, AddGenerationPrompt = addGenerationPrompt, Variables = variables, Clock = clock,
                })
                : templates!.Render(messages, tools, addGenerationPrompt, variables, name, clock);
            return JsonSerializer.Serialize(new JsonObject { ["text"] = text }, Json);
        }
        catch (Exception ex) when (ex is ChatTemplateException or KeyNotFoundException or ArgumentException)
        {
            return JsonSerializer.Serialize(new JsonObject { ["error"] = ex.Message }, Json);
        }
    }

    private DateTime ParseTime(string text) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var time)
            ? time
            : throw new UsageException($"{Name}: --now '{text}' is not a time (use ISO 8601, e.g. 2025-03-07T09:05:03).");
}
