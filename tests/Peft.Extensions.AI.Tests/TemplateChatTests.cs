using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Peft.MLNet.Tests;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Tokenizers.ChatTemplates;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;

namespace Peft.Extensions.AI.Tests;

[TestClass]
public sealed class TemplateChatTests
{
    private const string ChatMl =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private const string Alternating =
        "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
        "{{ message['content'] }}{% endfor %}";

    private static void WriteTemplate(TinyBase tiny, string template) =>
        File.WriteAllText(Path.Combine(tiny.Folder, "tokenizer_config.json"),
            new JsonObject { ["chat_template"] = template, ["eos_token"] = "<|endoftext|>", ["bos_token"] = null }.ToJsonString());

    /// <summary>The engine's greedy text after <paramref name="prompt"/>, cut at end-of-text.</summary>
    private static string Greedy(PeftModel model, Tokenizer tokenizer, string prompt, bool addSpecialTokens, int maxNewTokens = 10)
    {
        var ids = tokenizer.Encode(prompt, addSpecialTokens).Ids;
        var generated = model.Generate(IntTensor.FromArray([.. ids], 1, ids.Count), null,
            new GenerationOptions { MaxNewTokens = maxNewTokens, EosTokenIds = [TinyBase.EndOfText] }).Span[ids.Count..].ToArray();
        int end = Array.IndexOf(generated, TinyBase.EndOfText);
        return tokenizer.Decode(end < 0 ? generated : generated[..end], skipSpecialTokens: true);
    }

    [TestMethod]
    public async Task TheModelsChatTemplateWritesThePrompt()
    {
        using var tiny = TinyBase.Create("llama", seed: 5);
        WriteTemplate(tiny, ChatMl);
        using var client = PeftChatClient.Load(tiny.Folder, options: new PeftChatClientOptions { MaxOutputTokens = 10 });
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.System, "Be kind."), new ChatMessage(ChatRole.User, "Hello")]);

        string rendered = TokenizerChatTemplates.Load(tiny.Folder)!.Render(
            JsonNode.Parse("""[{"role":"system","content":"Be kind."},{"role":"user","content":"Hello"}]""")!.AsArray(), addGenerationPrompt: true);
        Assert.AreEqual("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", rendered);
        var model = client.GetService<PeftModel>()!;
        var tokenizer = client.GetService<Tokenizer>()!;
        Assert.AreEqual(Greedy(model, tokenizer, rendered, addSpecialTokens: false), response.Text);
        Assert.AreEqual(tokenizer.Encode(rendered, addSpecialTokens: false).Ids.Count, (int)response.Usage!.InputTokenCount!,
            "the template's text, encoded as apply_chat_template encodes it");
        Assert.AreEqual(new DirectoryInfo(tiny.Folder).Name, response.ModelId, "the folder names the model");
    }

    [TestMethod]
    public async Task AModelWithoutATemplateUsesTheDocumentedFallback()
    {
        using var tiny = TinyBase.Create(seed: 5);
        using var client = PeftChatClient.Load(tiny.Folder, options: new PeftChatClientOptions { MaxOutputTokens = 10 });
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello")]);
        string fallback = ChatTemplate.Fallback.Render(JsonNode.Parse("""[{"role":"user","content":"Hello"}]""")!.AsArray(), addGenerationPrompt: true);
        Assert.AreEqual("user: Hello\nassistant:", fallback);
        Assert.AreEqual(Greedy(client.GetService<PeftModel>()!, client.GetService<Tokenizer>()!, fallback, addSpecialTokens: true), response.Text);
    }

    [TestMethod]
    public async Task AdaptersGivenToLoadAreStackedAndActive()
    {
        using var tiny = TinyBase.Create(seed: 5);
        string[] adapters = [Path.Combine(tiny.Folder, "a1"), Path.Combine(tiny.Folder, "a2")];
        var author = new PeftModel(ModelLoader.LoadCausal(tiny.Folder));
        for (int i = 0; i < 2; i++)
        {
            // Random B as well as A, so each adapter changes the output.
            author.AddAdapter($"a{i}", new LoraConfig { R = 4, LoraAlpha = 64, TargetModules = TargetModules.FromNames("c_attn"), InitLoraWeights = LoraInit.Random },
                seed: (ulong)(11 + i));
            author.SaveAdapter($"a{i}", adapters[i]);
        }
        var reference = new PeftModel(ModelLoader.LoadCausal(tiny.Folder));
        reference.LoadAdapter(adapters[0], "x");
        reference.LoadAdapter(adapters[1], "y");
        reference.SetActiveAdapters("x", "y");
        var tokenizer = Tokenizer.Load(tiny.Folder);

        using var plain = PeftChatClient.Load(tiny.Folder, options: new PeftChatClientOptions { MaxOutputTokens = 10 });
        using var adapted = PeftChatClient.Load(tiny.Folder, adapters, new PeftChatClientOptions { MaxOutputTokens = 10 });
        ChatMessage[] hello = [new(ChatRole.User, "Hello")];
        string withAdapters = (await adapted.GetResponseAsync(hello)).Text;
        Assert.AreEqual(Greedy(reference, tokenizer, "user: Hello\nassistant:", addSpecialTokens: true), withAdapters);
        Assert.AreNotEqual((await plain.GetResponseAsync(hello)).Text, withAdapters, "the adapters change the answer");
        CollectionAssert.AreEqual(new[] { "adapter0", "adapter1" }, adapted.GetService<PeftModel>()!.ActiveAdapters.ToArray());

        var missing = Assert.ThrowsExactly<DirectoryNotFoundException>(() => PeftChatClient.Load(tiny.Folder, [Path.Combine(tiny.Folder, "nope")]));
        StringAssert.Contains(missing.Message, "nope");
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => PeftChatClient.Load(Path.Combine(tiny.Folder, "no-model")));
    }

    [TestMethod]
    public async Task ATemplatesRaisedErrorReachesTheCallerVerbatim()
    {
        using var tiny = TinyBase.Create("llama", seed: 5);
        WriteTemplate(tiny, Alternating);
        using var client = PeftChatClient.Load(tiny.Folder);
        var error = await Assert.ThrowsExactlyAsync<ChatTemplateException>(() =>
            client.GetResponseAsync([new ChatMessage(ChatRole.User, "a"), new ChatMessage(ChatRole.User, "b")]));
        Assert.AreEqual("Conversation roles must alternate user/assistant/user/assistant/...", error.Message);
    }
}
