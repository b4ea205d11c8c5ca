using System.Text.Json.Nodes;
using Peft.Tokenizers;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Fuzz;

/// <summary>tokenizer_config.json: its chat templates and special tokens, and (when it loads) a render of a short conversation.</summary>
public static class TokenizerConfigTarget
{
    /// <summary>The target.</summary>
    public static FuzzTarget Target { get; } = new("tokenizer-config",
        [typeof(TokenizerFormatException), typeof(ChatTemplateSyntaxException), typeof(ChatTemplateException)], Parse);

    private static void Parse(byte[] input) => FuzzInput.InScratchFolder(folder =>
    {
        File.WriteAllBytes(Path.Combine(folder, "tokenizer_config.json"), input);
        var templates = TokenizerChatTemplates.Load(folder);
        if (templates is null) return;
        var messages = JsonNode.Parse("""
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
            """)!.AsArray();
        foreach (string name in templates.Templates.Keys)
            _ = templates.Render((JsonArray)messages.DeepClone(), addGenerationPrompt: true, templateName: name);
    });
}
