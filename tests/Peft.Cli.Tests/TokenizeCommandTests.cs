using System.Text.Json;

namespace Peft.Cli.Tests;

[TestClass]
public sealed class TokenizeCommandTests
{
    private static string Tokenizers(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "tokenizers", name);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("shared/fixtures/tokenizers not found beside the repository.");
    }

    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = PeftCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [TestMethod]
    public void TextAndJsonlInputsPrintTheFixtureEncodings()
    {
        string folder = Tokenizers("mistral");
        using var cases = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "cases.json")));
        var withSpecial = cases.RootElement.EnumerateArray().First(c =>
            c.GetProperty("add_special_tokens").GetBoolean() && c.GetProperty("text").GetString()!.Length > 3);
        string text = withSpecial.GetProperty("text").GetString()!;
        var (code, output, _) = Run("tokenize", "--tokenizer", folder, "--text", text, "--add-special-tokens");
        Assert.AreEqual(0, code);
        using var line = JsonDocument.Parse(output.Trim());
        CollectionAssert.AreEqual(withSpecial.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            line.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray());
        Assert.AreEqual(withSpecial.GetProperty("decoded").GetString(), line.RootElement.GetProperty("decoded").GetString());

        string jsonl = Path.Combine(Path.GetTempPath(), $"peft-tok-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(jsonl, ["{\"text\": \"Hello world\"}", "", "{\"text\": \"héllo\"}"]);
        try
        {
            var (jsonlCode, lines, _) = Run("tokenize", "--tokenizer", Path.Combine(Tokenizers("gpt2"), "tokenizer.json"), "--input", jsonl);
            Assert.AreEqual(0, jsonlCode);
            var rows = lines.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.AreEqual(2, rows.Length);
            using var first = JsonDocument.Parse(rows[0]);
            CollectionAssert.AreEqual(new[] { 15496, 995 }, first.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray());
            Assert.AreEqual("héllo", JsonDocument.Parse(rows[1]).RootElement.GetProperty("decoded").GetString());
        }
        finally
        {
            File.Delete(jsonl);
        }
        var (decodeCode, decoded, _) = Run("tokenize", "--tokenizer", Tokenizers("gpt2"), "--decode", "15496, 995");
        Assert.AreEqual(0, decodeCode);
        Assert.AreEqual("Hello world", decoded.TrimEnd('\r', '\n'));
    }

    [TestMethod]
    public void AFolderWithOnlyASentencePieceModelTokenizesThroughMLNet()
    {
        string mistral = Tokenizers("mistral");
        string folder = Directory.CreateTempSubdirectory("peft-cli-spm-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "tokenizer.model"),
                Peft.Tokenizers.Benchmarks.SentencePieceModel.FromTokenizerJson(Path.Combine(mistral, "tokenizer.json")));
            File.Copy(Path.Combine(mistral, "tokenizer_config.json"), Path.Combine(folder, "tokenizer_config.json"));
            var (code, output, error) = Run("tokenize", "--tokenizer", folder, "--text", "Hello world", "--add-special-tokens");
            Assert.AreEqual(0, code, error);
            var (_, expected, _) = Run("tokenize", "--tokenizer", mistral, "--text", "Hello world", "--add-special-tokens");
            using var ours = JsonDocument.Parse(expected);
            using var theirs = JsonDocument.Parse(output);
            Assert.AreEqual(ours.RootElement.GetProperty("ids").GetRawText(), theirs.RootElement.GetProperty("ids").GetRawText());
            var (empty, _, message) = Run("tokenize", "--tokenizer", Path.GetTempPath(), "--text", "x");
            Assert.AreEqual(2, empty, message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void BadUsageExitsWithTwoAndOneLine()
    {
        foreach (var args in new[]
        {
            new[] { "tokenize", "--tokenizer", Tokenizers("gpt2") },
            ["tokenize", "--tokenizer", "/no/such/dir", "--text", "x"],
            ["tokenize", "--tokenizer", Tokenizers("gpt2"), "--decode", "1,x"],
            ["tokenize", "--tokenizer", Tokenizers("gpt2"), "--decode", "99999999"],
            ["tokenize", "--tokenizer", Tokenizers("gpt2"), "--text", "a", "--decode", "1"],
        })
        {
            var (code, _, error) = Run(args);
            Assert.AreEqual(2, code, string.Join(" ", args));
            Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
            StringAssert.StartsWith(error, "peft: ");
        }
    }
}
