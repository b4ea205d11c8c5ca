using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Peft.MLNet.Tests;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Tuners.PeftModels;

namespace Peft.Extensions.AI.Tests;

[TestClass]
public sealed class ChatClientTests
{
    /// <summary>Renders "role: content" lines and remembers what it was given.</summary>
    private sealed class LinePrompt : IChatPrompt
    {
        public JsonArray? LastMessages { get; private set; }

        public JsonArray? LastTools { get; private set; }

        public bool AddSpecialTokens => false;

        public string Render(JsonArray messages, JsonArray? tools)
        {
            LastMessages = messages;
            LastTools = tools;
            return string.Concat(messages.Select(m => $"{m!["role"]}: {m["content"]}\n")) + "assistant:";
        }
    }

    private static readonly ChatMessage[] Conversation = [new(ChatRole.User, "Name a colour.")];

    private static (PeftChatClient Client, PeftModel Model, Tokenizer Tokenizer, LinePrompt Prompt) Create(TinyBase tiny, int maxOutputTokens = 12)
    {
        var model = new PeftModel(ModelLoader.LoadCausal(tiny.Folder));
        var tokenizer = Tokenizer.Load(tiny.Folder);
        var prompt = new LinePrompt();
        return (new PeftChatClient(model, tokenizer, prompt, new PeftChatClientOptions { MaxOutputTokens = maxOutputTokens, ModelId = "tiny" }),
            model, tokenizer, prompt);
    }

    /// <summary>What the engine generates greedily for the client's prompt, cut at the first end-of-text.</summary>
    private static (string Text, int Tokens, bool EndOfText) Greedy(PeftModel model, Tokenizer tokenizer, string prompt, int maxNewTokens)
    {
        var ids = tokenizer.Encode(prompt, addSpecialTokens: false).Ids;
        var sequences = model.Generate(IntTensor.FromArray([.. ids], 1, ids.Count), null,
            new GenerationOptions { MaxNewTokens = maxNewTokens, EosTokenIds = [TinyBase.EndOfText] });
        var generated = sequences.Span[ids.Count..].ToArray();
        int end = Array.IndexOf(generated, TinyBase.EndOfText);
        var kept = end < 0 ? generated : generated[..end];
        return (tokenizer.Decode(kept, skipSpecialTokens: true), end < 0 ? generated.Length : end + 1, end >= 0);
    }

    [TestMethod]
    public async Task TheResponseIsTheEngineGreedyTextAndStreamingGivesTheSame()
    {
        using var tiny = TinyBase.Create(seed: 3);
        var (client, model, tokenizer, prompt) = Create(tiny);
        var response = await client.GetResponseAsync(Conversation);
        var expected = Greedy(model, tokenizer, "user: Name a colour.\nassistant:", 12);
        Assert.AreEqual(expected.Text, response.Text);
        Assert.AreEqual(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.AreEqual(expected.EndOfText ? ChatFinishReason.Stop : ChatFinishReason.Length, response.FinishReason);
        Assert.AreEqual(tokenizer.Encode("user: Name a colour.\nassistant:", addSpecialTokens: false).Ids.Count, (int)response.Usage!.InputTokenCount!);
        Assert.AreEqual(expected.Tokens, (int)response.Usage.OutputTokenCount!);
        Assert.AreEqual(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        Assert.AreEqual("tiny", response.ModelId);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Conversation)) updates.Add(update);
        Assert.AreEqual(response.Text, string.Concat(updates.Select(u => u.Text)), "streamed text equals the whole response");
        Assert.IsGreaterThan(1, updates.Count(u => u.Text.Length > 0), "the text arrives in pieces");
        Assert.AreEqual(response.FinishReason, updates[^1].FinishReason);
        Assert.AreEqual(response.Usage.OutputTokenCount, updates[^1].Contents.OfType<UsageContent>().Single().Details.OutputTokenCount);
        Assert.AreEqual(1, updates.Select(u => u.ResponseId).Distinct().Count(), "one response id for every update");
    }

    [TestMethod]
    public async Task OptionsAreHonoured()
    {
        using var tiny = TinyBase.Create(seed: 3);
        var (client, model, tokenizer, _) = Create(tiny);
        var greedy = await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 10 });

        var three = await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 3 });
        Assert.IsLessThanOrEqualTo(3L, three.Usage!.OutputTokenCount!.Value);
        var expectedThree = Greedy(model, tokenizer, "user: Name a colour.\nassistant:", 3);
        Assert.AreEqual(expectedThree.Text, three.Text);
        Assert.AreEqual(expectedThree.EndOfText ? ChatFinishReason.Stop : ChatFinishReason.Length, three.FinishReason);

        var topOne = await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 10, Temperature = 1f, TopK = 1, Seed = 5 });
        Assert.AreEqual(greedy.Text, topOne.Text, "sampling from the top 1 token is greedy");

        var hot = new ChatOptions { MaxOutputTokens = 10, Temperature = 2f, Seed = 11 };
        var sampled = await client.GetResponseAsync(Conversation, hot);
        Assert.AreEqual(sampled.Text, (await client.GetResponseAsync(Conversation, hot)).Text, "a seeded sample repeats");
        var others = new List<string>();
        for (int seed = 12; seed < 16; seed++)
            others.Add((await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 10, Temperature = 2f, Seed = seed })).Text);
        Assert.IsTrue(others.Any(t => t != sampled.Text), "other seeds sample other text: " + string.Join(" | ", others));

        // A stop sequence taken from the greedy text ends the answer before it.
        Assert.IsGreaterThanOrEqualTo(4, greedy.Text.Length, greedy.Text);
        string stop = greedy.Text.Substring(2, 2);
        var stopped = await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 10, StopSequences = [stop] });
        Assert.AreEqual(greedy.Text[..greedy.Text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.AreEqual(ChatFinishReason.Stop, stopped.FinishReason);

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 0 }).GetAwaiter().GetResult());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Conversation, new ChatOptions { TopP = 1.5f }).GetAwaiter().GetResult());
    }

    [TestMethod]
    public async Task AnAnswerStopsAtTheModelsContextAndAConversationTooLongForItSaysSo()
    {
        using var tiny = TinyBase.Create(seed: 3);
        var (client, _, tokenizer, _) = Create(tiny, maxOutputTokens: 500);
        int prompt = tokenizer.Encode("user: Name a colour.\nassistant:", addSpecialTokens: false).Ids.Count;
        var response = await client.GetResponseAsync(Conversation, new ChatOptions { StopSequences = [] });
        Assert.IsLessThanOrEqualTo(128L - prompt, response.Usage!.OutputTokenCount!.Value, "no more new tokens than the 128 positions leave");
        if (response.Usage.OutputTokenCount == 128 - prompt) Assert.AreEqual(ChatFinishReason.Length, response.FinishReason);
        var tooLong = new ChatMessage(ChatRole.User, new string('x', 200));
        var error = await Assert.ThrowsExactlyAsync<ArgumentException>(() => client.GetResponseAsync([tooLong]));
        StringAssert.Contains(error.Message, "context holds 128");
    }

    [TestMethod]
    public async Task CancellationStopsGeneration()
    {
        using var tiny = TinyBase.Create(seed: 3);
        var (client, _, _, _) = Create(tiny, maxOutputTokens: 200);
        using var cancel = new CancellationTokenSource();
        int pieces = 0;
        await Assert.ThrowsAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(Conversation, new ChatOptions { StopSequences = [] }, cancel.Token))
            {
                pieces++;
                cancel.Cancel();
            }
        });
        Assert.AreEqual(1, pieces, "nothing more arrives once cancelled");
        using var already = new CancellationTokenSource();
        already.Cancel();
        await Assert.ThrowsAsync<OperationCanceledException>(() => client.GetResponseAsync(Conversation, null, already.Token));
    }

    [TestMethod]
    public async Task ConcurrentCallsEachGetTheirOwnAnswer()
    {
        using var tiny = TinyBase.Create(seed: 3);
        var (client, _, _, _) = Create(tiny);
        ChatMessage[][] conversations = [.. new[] { "red", "blue", "a longer question about green", "why?" }.Select(t => new[] { new ChatMessage(ChatRole.User, t) })];
        var alone = new List<string>();
        foreach (var c in conversations) alone.Add((await client.GetResponseAsync(c)).Text);
        var together = await Task.WhenAll(conversations.Concat(conversations).Select(c => Task.Run(() => client.GetResponseAsync(c))));
        CollectionAssert.AreEqual(alone.Concat(alone).ToArray(), together.Select(r => r.Text).ToArray());
    }

    [TestMethod]
    public async Task InstructionsAndToolsReachTheTemplateInHuggingFaceShape()
    {
        using var tiny = TinyBase.Create(seed: 3);
        var (client, _, _, prompt) = Create(tiny, maxOutputTokens: 1);
        var weather = AIFunctionFactory.Create((string city) => $"sunny in {city}", "get_weather", "The weather in a city.");
        ChatMessage[] conversation =
        [
            new(ChatRole.User, "Weather in Oslo?"),
            new(ChatRole.Assistant, [new FunctionCallContent("call1", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call1", "sunny")]),
        ];
        await client.GetResponseAsync(conversation, new ChatOptions { Instructions = "Be brief.", Tools = [weather] });
        var messages = prompt.LastMessages!;
        Assert.AreEqual("""{"role":"system","content":"Be brief."}""", messages[0]!.ToJsonString());
        Assert.AreEqual("""{"role":"user","content":"Weather in Oslo?"}""", messages[1]!.ToJsonString());
        Assert.AreEqual(
            """{"role":"assistant","content":"","tool_calls":[{"type":"function","id":"call1","function":{"name":"get_weather","arguments":{"city":"Oslo"}}}]}""",
            messages[2]!.ToJsonString());
        Assert.AreEqual("""{"role":"tool","tool_call_id":"call1","content":"sunny"}""", messages[3]!.ToJsonString());
        var tool = prompt.LastTools!.Single()!;
        Assert.AreEqual("get_weather", tool["function"]!["name"]!.GetValue<string>());
        Assert.AreEqual("string", tool["function"]!["parameters"]!["properties"]!["city"]!["type"]!.GetValue<string>());

        await client.GetResponseAsync([new(ChatRole.System, "Stay calm."), new(ChatRole.User, "Hi")], new ChatOptions { Instructions = "Be brief." });
        Assert.AreEqual("Be brief.\n\nStay calm.", prompt.LastMessages![0]!["content"]!.GetValue<string>(), "instructions join the system message");
        Assert.IsNull(prompt.LastTools, "no tools: None, as templates test it");
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([]));
    }

    [TestMethod]
    public void GetServiceReturnsTheModelTheTokenizerAndTheMetadata()
    {
        using var tiny = TinyBase.Create();
        var (client, model, tokenizer, _) = Create(tiny);
        Assert.AreSame(model, client.GetService<PeftModel>());
        Assert.AreSame(tokenizer, client.GetService<Tokenizer>());
        Assert.AreSame(client, client.GetService<IChatClient>());
        Assert.AreEqual("Peft.MLNet", client.GetService<ChatClientMetadata>()!.ProviderName);
        Assert.AreEqual("tiny", client.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.IsNull(client.GetService<PeftModel>("some key"));
        Assert.IsNull(client.GetService<string>());
    }
}
