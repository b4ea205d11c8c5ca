using System.Text.Json;
using System.Text.Json.Nodes;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>
/// The chat templates and special tokens of a Hugging Face model folder, read the way transformers reads them:
/// <c>chat_template.jinja</c> (newer transformers; it wins), or <c>tokenizer_config.json</c>'s <c>chat_template</c>
/// (a string, or a list of <c>{"name", "template"}</c>), or a processor's <c>chat_template.json</c>; further named
/// templates from <c>additional_chat_templates/*.jinja</c>. The special tokens (<c>bos_token</c>, <c>eos_token</c>,
/// <c>unk_token</c>, <c>sep_token</c>, <c>pad_token</c>, <c>cls_token</c>, <c>mask_token</c>,
/// <c>additional_special_tokens</c>) become template variables; a token that is null or empty is left out, so the
/// template sees it as undefined, as transformers' <c>special_tokens_map</c> does.
/// </summary>
public sealed class TokenizerChatTemplates
{
    /// <summary>The name of the template used when none is asked for (and no tool template applies).</summary>
    public const string DefaultName = "default";

    /// <summary>The name of the template transformers picks when tools are given and the model has one by this name.</summary>
    public const string ToolUseName = "tool_use";

    private static readonly string[] SpecialTokenNames =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens"];

    private readonly Dictionary<string, ChatTemplate> _templates;

    private TokenizerChatTemplates(Dictionary<string, ChatTemplate> templates, IReadOnlyDictionary<string, JsonNode?> specialTokens)
    {
        _templates = templates;
        SpecialTokens = specialTokens;
    }

    /// <summary>The templates by name; a single unnamed template is called <see cref="DefaultName"/>.</summary>
    public IReadOnlyDictionary<string, ChatTemplate> Templates => _templates;

    /// <summary>The special tokens passed to every render: strings, or a list of strings for additional_special_tokens.</summary>
    public IReadOnlyDictionary<string, JsonNode?> SpecialTokens { get; }

    /// <summary>
    /// Reads the templates of the model in <paramref name="folder"/>; null when the folder has no chat template
    /// (then <see cref="ChatTemplate.Fallback"/> is a documented stand-in).
    /// </summary>
    /// <exception cref="ChatTemplateSyntaxException">A template is not valid Jinja.</exception>
    /// <exception cref="TokenizerFormatException">tokenizer_config.json or chat_template.json is malformed.</exception>
    public static TokenizerChatTemplates? Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var config = ReadJsonObject(Path.Combine(folder, "tokenizer_config.json"));
        var sources = new Dictionary<string, string>();
        switch (config?["chat_template"])
        {
            case JsonValue value when value.TryGetValue(out string? text):
                sources[DefaultName] = text;
                break;
            case JsonArray list:
                foreach (var entry in list)
                {
                    if (entry?["name"]?.GetValue<string>() is not { } name || entry["template"]?.GetValue<string>() is not { } template)
                        throw new TokenizerFormatException("tokenizer_config.json: each chat_template entry needs a string 'name' and 'template'.");
                    sources[name] = template;
                }
                break;
        }
        if (sources.Count == 0 && ReadJsonObject(Path.Combine(folder, "chat_template.json"))?["chat_template"] is JsonValue processor &&
            processor.TryGetValue(out string? processorTemplate))
            sources[DefaultName] = processorTemplate;

        string jinjaFile = Path.Combine(folder, "chat_template.jinja");
        if (File.Exists(jinjaFile)) sources[DefaultName] = File.ReadAllText(jinjaFile);
        string additional = Path.Combine(folder, "additional_chat_templates");
        if (Directory.Exists(additional))
        {
            foreach (string file in Directory.GetFiles(additional, "*.jinja").Order(StringComparer.Ordinal))
                sources[Path.GetFileNameWithoutExtension(file)] = File.ReadAllText(file);
        }
        if (sources.Count == 0) return null;

        var templates = sources.ToDictionary(kv => kv.Key, kv => ChatTemplate.Parse(kv.Value));
        return new TokenizerChatTemplates(templates, ReadSpecialTokens(folder, config));
    }

    /// <summary>
    /// The template to use, by transformers' rule: the one named <paramref name="name"/> if given; otherwise
    /// <see cref="ToolUseName"/> when <paramref name="withTools"/> and the model has it; otherwise <see cref="DefaultName"/>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No template by that name, or several templates and none is the default.</exception>
    public ChatTemplate Select(string? name = null, bool withTools = false)
    {
        if (name is not null)
        {
            return _templates.TryGetValue(name, out var named) ? named
                : throw new KeyNotFoundException($"No chat template named '{name}'; the model has {string.Join(", ", _templates.Keys.Select(k => $"'{k}'"))}.");
        }
        if (withTools && _templates.TryGetValue(ToolUseName, out var toolUse)) return toolUse;
        if (_templates.TryGetValue(DefaultName, out var fallback)) return fallback;
        string names = string.Join(", ", _templates.Keys.Select(k => $"'{k}'"));
        throw new KeyNotFoundException($"This model has several chat templates ({names}) and none is named '{DefaultName}'; pass a name.");
    }

    /// <summary>
    /// Renders a conversation like <c>tokenizer.apply_chat_template(messages, tools=..., add_generation_prompt=...,
    /// tokenize=False, **kwargs)</c>: the selected template with the special tokens plus <paramref name="extraVariables"/>.
    /// </summary>
    /// <exception cref="ChatTemplateException">The template raised an error or failed.</exception>
    public string Render(
        JsonArray messages,
        JsonArray? tools = null,
        bool addGenerationPrompt = false,
        IReadOnlyDictionary<string, JsonNode?>? extraVariables = null,
        string? templateName = null,
        TimeProvider? clock = null)
    {
        var variables = new Dictionary<string, JsonNode?>();
        foreach (var (key, value) in SpecialTokens) variables[key] = value?.DeepClone();
        if (extraVariables is not null) foreach (var (key, value) in extraVariables) variables[key] = value;
        return Select(templateName, tools is not null).Render(new ChatTemplateContext
        {
            Messages = messages,
            Tools = tools,
            AddGenerationPrompt = addGenerationPrompt,
            Variables = variables,
            Clock = clock ?? TimeProvider.System,
        });
    }

    private static JsonObject? ReadJsonObject(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var obj = Peft.Shared.StrictJson.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new TokenizerFormatException($"{path}: expected a JSON object.");
            if (Peft.Shared.StrictJson.UnreadableString(obj) is { } unreadable)
                throw new TokenizerFormatException($"{path}: a string is not text ({unreadable}).");
            return obj;
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException($"{path}: {e.Message}", e);
        }
    }

    // tokenizer_config.json wins; special_tokens_map.json fills in tokens it does not name.
    private static Dictionary<string, JsonNode?> ReadSpecialTokens(string folder, JsonObject? config)
    {
        var map = ReadJsonObject(Path.Combine(folder, "special_tokens_map.json"));
        var tokens = new Dictionary<string, JsonNode?>();
        foreach (string name in SpecialTokenNames)
        {
            JsonNode? raw = config is not null && config.ContainsKey(name) ? config[name] : map?[name];
            var token = name == "additional_special_tokens" ? TokenList(raw) : TokenText(raw);
            if (token is not null) tokens[name] = token;
        }
        return tokens;
    }

    // A token is a string or an AddedToken object {"content": ...}; null or "" means the tokenizer has none.
    private static JsonNode? TokenText(JsonNode? raw)
    {
        string? text = raw switch
        {
            JsonValue value when value.TryGetValue(out string? s) => s,
            JsonObject added => added["content"]?.GetValue<string>(),
            _ => null,
        };
        return string.IsNullOrEmpty(text) ? null : JsonValue.Create(text);
    }

    private static JsonNode? TokenList(JsonNode? raw)
    {
        if (raw is not JsonArray list) return null;
        var tokens = new JsonArray();
        foreach (var item in list)
        {
            if (TokenText(item) is { } token) tokens.Add(token);
        }
        return tokens.Count == 0 ? null : tokens;
    }
}
