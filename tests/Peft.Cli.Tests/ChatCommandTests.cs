using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Peft.Extensions.AI;
using Peft.MLNet.Tests;

namespace Peft.Cli.Tests;

/// <summary>peft chat, peft chat-template, and training on {"messages": ...} rows.</summary>
[TestClass]
public sealed class ChatCommandTests
{
    private const string ChatMl =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private static void WriteTemplate(TinyBase tiny, string template) =>
        File.WriteAllText(Path.Combine(tiny.Folder, "tokenizer_config.json"),
            new JsonObject { ["chat_template"] = template, ["eos_token"] = "<|endoftext|>" }.ToJsonString());

    [TestMethod]
    public async Task ChatAnswersEachTurnAsTheChatClientDoesAndResetsOnRequest()
    {
        using var tiny = TinyBase.Create("llama", seed: 5);
        WriteTemplate(tiny, ChatMl);
        var (code, stdout, error) = CliRun.RunWithInput("hello\n\nhow are you?\n/reset\nhow are you?\n/exit\nnever read\n",
            "chat", "--model", tiny.Folder, "--system", "Be kind.", "--max-new-tokens", "6");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(error, "/reset");
        var answers = stdout.Split(Environment.NewLine);
        Assert.HasCount(4, answers, stdout);
        Assert.AreEqual("", answers[3], "each answer ends its line; nothing after /exit");

        using var client = PeftChatClient.Load(tiny.Folder, options: new PeftChatClientOptions { MaxOutputTokens = 6 });
        var options = new ChatOptions { MaxOutputTokens = 6 };
        var history = new List<ChatMessage> { new(ChatRole.System, "Be kind."), new(ChatRole.User, "hello") };
        var first = await client.GetResponseAsync(history, options);
        Assert.AreEqual(first.Text, answers[0]);
        history.AddMessages(first);
        history.Add(new ChatMessage(ChatRole.User, "how are you?"));
        Assert.AreEqual((await client.GetResponseAsync(history, options)).Text, answers[1], "the second turn sees the first");
        var fresh = await client.GetResponseAsync([new(ChatRole.System, "Be kind."), new(ChatRole.User, "how are you?")], options);
        Assert.AreEqual(fresh.Text, answers[2], "after /reset only the system text remains");
    }

    [TestMethod]
    public void ATurnTheTemplateRefusesIsReportedAndTheChatGoesOn()
    {
        using var tiny = TinyBase.Create("llama", seed: 5);
        WriteTemplate(tiny, "{% if messages | length > 1 %}{{ raise_exception('one message at a time') }}{% endif %}{{ messages[0]['content'] }}");
        var (code, stdout, error) = CliRun.RunWithInput("first\nsecond\n", "chat", "--model", tiny.Folder, "--max-new-tokens", "3");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(error, "one message at a time");
        Assert.AreEqual(2, stdout.Split(Environment.NewLine).Length, "one answer; the refused turn printed nothing");
        (code, _, error) = CliRun.RunWithInput("", "chat", "--model", Path.Combine(tiny.Folder, "missing"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "model folder not found");
    }

    [TestMethod]
    public void ChatTemplateRendersEveryFixtureCaseAsPythonJinja2Does()
    {
        string cases = FixturePath("cases.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(cases));
        string work = CliRun.TempFolder();
        try
        {
            var byTemplate = doc.RootElement.EnumerateArray().GroupBy(c => c.GetProperty("template_name").GetString()!);
            int checkedCases = 0;
            foreach (var group in byTemplate)
            {
                string template = Path.Combine(work, group.Key + ".jinja");
                Directory.CreateDirectory(work);
                File.WriteAllText(template, group.First().GetProperty("template").GetString());
                var lines = group.Select(c => new JsonObject
                {
                    ["messages"] = JsonNode.Parse(c.GetProperty("messages").GetRawText()),
                    ["tools"] = c.TryGetProperty("tools", out var tools) ? JsonNode.Parse(tools.GetRawText()) : null,
                    ["add_generation_prompt"] = c.GetProperty("add_generation_prompt").GetBoolean(),
                    ["variables"] = JsonNode.Parse(c.GetProperty("variables").GetRawText()),
                }.ToJsonString()).ToArray();
                string input = CliRun.WriteLines(work, group.Key + ".jsonl", lines);
                var (code, stdout, error) = CliRun.Run("chat-template", "--template", template, "--input", input, "--now", "2025-03-07T09:05:03");
                Assert.AreEqual(0, code, error);
                var outputs = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.HasCount(lines.Length, outputs, group.Key);
                foreach (var (expected, output) in group.Zip(outputs))
                {
                    var rendered = JsonNode.Parse(output)!.AsObject();
                    string id = expected.GetProperty("id").GetString()!;
                    if (expected.TryGetProperty("expected", out var text))
                        Assert.AreEqual(text.GetString(), rendered["text"]?.GetValue<string>(), id);
                    else if (expected.GetProperty("error_source").GetString() == "raise_exception")
                        Assert.AreEqual(expected.GetProperty("expected_error").GetString(), rendered["error"]?.GetValue<string>(), id);
                    else
                        Assert.IsNotNull(rendered["error"], id);
                    checkedCases++;
                }
            }
            Assert.AreEqual(doc.RootElement.GetArrayLength(), checkedCases);

            string bad = CliRun.WriteLines(work, "bad.jsonl", """{"messages": [{"role": "user", "content": "hi"}]}""", "{not json");
            var (badCode, _, badError) = CliRun.Run("chat-template", "--template", Path.Combine(work, "llama2-chat.jinja"), "--input", bad);
            Assert.AreEqual(2, badCode);
            StringAssert.Contains(badError, "bad.jsonl:2");
            string broken = CliRun.WriteLines(work, "broken.jinja", "{% if %}");
            (badCode, _, badError) = CliRun.Run("chat-template", "--template", broken, "--input", bad);
            Assert.AreEqual(2, badCode);
            StringAssert.Contains(badError, "line 1");
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    [TestMethod]
    public void TrainingOnMessagesRowsLearnsTheAnswerTurn()
    {
        using var tiny = TinyBase.Create();
        // A compact template, so the answer turn the tiny model must get exactly right is short: "u:sky?|a:" then "blue|".
        WriteTemplate(tiny, "{% for m in messages %}{{ m['role'][0] + ':' + m['content'] + '|' }}{% endfor %}{% if add_generation_prompt %}a:{% endif %}");
        string work = CliRun.TempFolder();
        try
        {
            string[] rows =
            [
                """{"messages": [{"role": "user", "content": "sky?"}, {"role": "assistant", "content": "blue"}]}""",
                """{"messages": [{"role": "user", "content": "grass?"}, {"role": "assistant", "content": "green"}]}""",
            ];
            string data = CliRun.WriteLines(work, "chat.jsonl", rows);
            string adapter = Path.Combine(work, "adapter");
            var (code, trainOut, error) = CliRun.Run("train", "--model", tiny.Folder, "--method", "lora", "--r", "16", "--lora-alpha", "32",
                "--target-modules", "c_attn,c_fc,c_proj", "--data", data, "--out", adapter, "--epochs", "150", "--batch-size", "2", "--lr", "1e-2");
            Assert.AreEqual(0, code, error);
            string stdout;
            (code, stdout, error) = CliRun.Run("eval", "--model", tiny.Folder, "--adapter", adapter, "--data", data, "--json");
            Assert.AreEqual(0, code, error);
            Assert.AreEqual(1.0, JsonNode.Parse(stdout)!["exact_match"]!.GetValue<double>(), "both answers learnt: " + stdout + trainOut);

            string bad = CliRun.WriteLines(work, "bad.jsonl", """{"messages": [{"role": "user", "content": "sky?"}]}""");
            (code, _, error) = CliRun.Run("train", "--model", tiny.Folder, "--method", "lora", "--data", bad, "--out", Path.Combine(work, "x"));
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "bad.jsonl:1");
            StringAssert.Contains(error, "assistant");
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    [TestMethod]
    public void AMessagesRowIsThePromptBeforeTheAnswerAndTheAnswerTurnTheTemplateWrites()
    {
        using var tiny = TinyBase.Create("llama");
        WriteTemplate(tiny, ChatMl);
        var row = JsonNode.Parse("""
            {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "sky?"}, {"role": "assistant", "content": "blue"}]}
            """)!.AsObject();
        var where = new Data.DataLocation("chat.jsonl", 3);
        var example = new Data.MessagesFormat(tiny.Folder).Read(new Data.DataRecord(row, where));
        Assert.AreEqual(Data.ExampleKind.Chat, example.Kind);
        Assert.AreEqual("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nsky?<|im_end|>\n<|im_start|>assistant\n", example.Input);
        Assert.AreEqual("blue<|im_end|>\n", example.Target);

        using var plain = TinyBase.Create();
        var fallback = new Data.MessagesFormat(plain.Folder).Read(new Data.DataRecord(row, where));
        Assert.AreEqual((Data.ExampleKind.Completion, "system: S\nuser: sky?\nassistant:", " blue"), (fallback.Kind, fallback.Input, fallback.Target),
            "without a template: the documented fallback, the answer as a completion");
    }

    private static string FixturePath(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (string candidate in new[] { Path.Combine(dir.FullName, "shared", "fixtures", "chat_templates", name),
                Path.Combine(dir.FullName, "..", "shared", "fixtures", "chat_templates", name) })
                if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("../shared/fixtures/chat_templates not found beside the repository.", name);
    }
}
