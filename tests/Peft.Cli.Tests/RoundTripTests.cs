using System.Text.Json;
using Peft.MLNet.Tests;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Tuners.PeftModels;

namespace Peft.Cli.Tests;

/// <summary>train → generate → eval → merge → inspect on tiny models, and what each says about bad input.</summary>
[TestClass]
public sealed class RoundTripTests
{
    [TestMethod]
    [DataRow("gpt2", "lora")]
    [DataRow("llama", "ia3")]
    public void TrainGenerateEvalMergeInspect(string family, string method)
    {
        using var tiny = TinyBase.Create(family);
        string work = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", TrainCommandTests.Completions);
            string adapter = Path.Combine(work, "adapter");
            var (code, _, error) = CliRun.Run("train", "--model", tiny.Folder, "--method", method, "--data", data, "--out", adapter,
                "--epochs", "5", "--batch-size", "2", "--lr", "5e-2");
            Assert.AreEqual(0, code, error);

            // generate streams what the engine's greedy generation gives for the same prompt.
            const string prompt = "colour of sky? ";
            string stdout;
            (code, stdout, error) = CliRun.Run("generate", "--model", tiny.Folder, "--adapter", adapter, "--prompt", prompt, "--max-new-tokens", "12");
            Assert.AreEqual(0, code, error);
            var tokenizer = Tokenizer.Load(tiny.Folder);
            var peft = new PeftModel(ModelLoader.LoadCausal(tiny.Folder));
            peft.LoadAdapter(adapter, "a");
            var ids = tokenizer.Encode(prompt).Ids;
            var expected = peft.Generate(IntTensor.FromArray([.. ids], 1, ids.Count), null,
                new GenerationOptions { MaxNewTokens = 12, EosTokenIds = [TinyBase.EndOfText] }).ToArray().Skip(ids.Count).ToArray();
            Assert.AreEqual(tokenizer.Decode(expected, skipSpecialTokens: true) + Environment.NewLine, stdout);

            // eval: a table, and JSON with the same figures.
            (code, stdout, error) = CliRun.Run("eval", "--model", tiny.Folder, "--adapter", adapter, "--data", data);
            Assert.AreEqual(0, code, error);
            foreach (var row in new[] { "loss", "perplexity", "exact match", "/4)" }) StringAssert.Contains(stdout, row);
            (code, stdout, error) = CliRun.Run("eval", "--model", tiny.Folder, "--adapter", adapter, "--data", data, "--json");
            Assert.AreEqual(0, code, error);
            using (var json = JsonDocument.Parse(stdout))
            {
                var root = json.RootElement;
                Assert.AreEqual(4, root.GetProperty("examples").GetInt32());
                Assert.AreEqual(Math.Exp(root.GetProperty("loss").GetDouble()), root.GetProperty("perplexity").GetDouble(), 1e-9);
                Assert.IsTrue(root.GetProperty("exact_match").GetDouble() is >= 0 and <= 1);
            }

            // merge: the merged folder alone gives the logits of base + adapter.
            string merged = Path.Combine(work, "merged");
            (code, stdout, error) = CliRun.Run("merge", "--model", tiny.Folder, "--adapter", adapter, "--out", merged);
            Assert.AreEqual(0, code, error);
            CollectionAssert.AreEquivalent(new[] { "config.json", "model.safetensors", "tokenizer.json" },
                Directory.GetFiles(merged).Select(Path.GetFileName).ToArray());
            Assert.IsFalse(Directory.GetDirectories(work).Any(d => Path.GetFileName(d).StartsWith('.')), "no temporary folder left");
            var input = IntTensor.FromArray([.. tokenizer.Encode("colour of snow? white.").Ids], 1, tokenizer.Encode("colour of snow? white.").Ids.Count);
            float[] withAdapter, alone;
            using (Autograd.NoGrad())
            using (new TensorScope())
            {
                withAdapter = peft.Forward(input).Logits.ToArray();
                alone = ModelLoader.LoadCausal(merged).Forward(inputIds: input).Logits.ToArray();
            }
            float[] baseOnly;
            using (peft.DisableAdapters())
            using (Autograd.NoGrad())
            using (new TensorScope())
                baseOnly = peft.Forward(input).Logits.ToArray();
            Assert.IsTrue(withAdapter.Zip(baseOnly).Any(p => Math.Abs(p.First - p.Second) > 1e-3), "the adapter changes the logits");
            // Stated tolerance: float32 merge, 1e-4 absolute + 1e-4 relative.
            for (int i = 0; i < alone.Length; i++) Assert.AreEqual(withAdapter[i], alone[i], 1e-4 + 1e-4 * Math.Abs(withAdapter[i]), $"logit {i}");

            // inspect: the model, the adapter, and the adapter against its base.
            (code, stdout, error) = CliRun.Run("inspect", merged);
            Assert.AreEqual(0, code, error);
            foreach (var row in new[] { "architecture", family, "layers", "hidden size", "vocabulary", "257", "F32", "parameters", "model.safetensors",
                "tokenizer.json", "chat template" })
                StringAssert.Contains(stdout, row);
            (code, stdout, error) = CliRun.Run("inspect", adapter, "--model", tiny.Folder);
            Assert.AreEqual(0, code, error);
            foreach (var row in new[] { method.ToUpperInvariant(), "target_modules", "trainable parameters", "base_model_name_or_path", "yes" })
                StringAssert.Contains(stdout, row);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void GenerateStatsInputFileStopsAndSampling()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        try
        {
            var (code, stdout, error) = CliRun.Run("generate", "--model", tiny.Folder, "--prompt", "hello", "--max-new-tokens", "6", "--stats");
            Assert.AreEqual(0, code, error);
            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            StringAssert.Matches(lines.Single(l => l.Contains("load time")), new System.Text.RegularExpressions.Regex(@"load time\s+=\s+[\d.]+ ms"));
            StringAssert.Matches(lines.Single(l => l.Contains("prompt eval time")),
                new System.Text.RegularExpressions.Regex(@"= +[\d.]+ ms / +5 prompt tokens \( *[\d.]+ ms per token, +[\d.]+ tokens/s\)"));
            StringAssert.Matches(lines.Single(l => l.Contains("peft: eval time")),
                new System.Text.RegularExpressions.Regex(@"= +[\d.]+ ms / +\d generated tokens \( *[\d.]+ ms per token, +[\d.]+ tokens/s\)"));

            string input = CliRun.WriteLines(work, "in.jsonl", "{\"prompt\": \"a\"}", "", "{\"prompt\": \"b\"}", "{\"text\": \"c\"}");
            (code, stdout, error) = CliRun.Run("generate", "--model", tiny.Folder, "--input", input, "--max-new-tokens", "3", "--temperature", "0.7", "--seed", "5");
            Assert.AreEqual(0, code, error);
            Assert.AreEqual(3, stdout.Split(Environment.NewLine).Length - 1, "one output line per input line");
            var again = CliRun.Run("generate", "--model", tiny.Folder, "--input", input, "--max-new-tokens", "3", "--temperature", "0.7", "--seed", "5");
            Assert.AreEqual(stdout, again.Out, "a seed reproduces sampled output");

            (code, stdout, _) = CliRun.Run("generate", "--model", tiny.Folder, "--prompt", "hello", "--max-new-tokens", "8");
            string full = stdout.TrimEnd('\r', '\n');
            string stop = full.Substring(2, 1);
            (code, stdout, error) = CliRun.Run("generate", "--model", tiny.Folder, "--prompt", "hello", "--max-new-tokens", "8", "--stop", stop);
            Assert.AreEqual(0, code, error);
            Assert.AreEqual(full[..full.IndexOf(stop, StringComparison.Ordinal)], stdout.TrimEnd('\r', '\n'), "the text stops before the stop string");

            // Past the model's 128 positions generation stops at the context rather than failing.
            (code, stdout, error) = CliRun.Run("generate", "--model", tiny.Folder, "--prompt", "hello", "--max-new-tokens", "500", "--greedy");
            Assert.AreEqual(0, code, error);
            (code, _, error) = CliRun.Run("generate", "--model", tiny.Folder, "--prompt", new string('x', 130));
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "context holds 128");

            string bad = CliRun.WriteLines(work, "bad.jsonl", "{\"prompt\": \"a\"}", "{\"prompt\": ");
            (code, _, error) = CliRun.Run("generate", "--model", tiny.Folder, "--input", bad);
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, $"{bad}:2: not valid JSON");
            (code, _, error) = CliRun.Run("generate", "--model", tiny.Folder, "--prompt", "@user hi", "--max-new-tokens", "1");
            Assert.AreEqual(0, code, "a prompt starting with @ is text, not a response file: " + error);
            (code, _, error) = CliRun.Run("generate", "--model", tiny.Folder);
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "give exactly one of --prompt");
            (code, _, error) = CliRun.Run("generate", "--model", Path.Combine(work, "missing"), "--prompt", "x");
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "model folder not found");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void AdaptersForAnotherBaseOrMethodsThatCannotMergeExitWithTwo()
    {
        using var gpt2 = TinyBase.Create();
        using var llama = TinyBase.Create("llama");
        string work = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", TrainCommandTests.Completions);
            string lora = Path.Combine(work, "lora"), prompt = Path.Combine(work, "prompt");
            Assert.AreEqual(0, CliRun.Run("train", "--model", gpt2.Folder, "--method", "lora", "--data", data, "--out", lora, "--max-steps", "1").Code);
            Assert.AreEqual(0, CliRun.Run("train", "--model", gpt2.Folder, "--method", "prompt", "--data", data, "--out", prompt, "--max-steps", "1").Code);

            var (code, stdout, error) = CliRun.Run("generate", "--model", llama.Folder, "--adapter", lora, "--prompt", "x");
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, $"--adapter {lora} does not fit the model {llama.Folder}");
            StringAssert.Contains(error, "matches no linear layer");
            (code, _, error) = CliRun.Run("eval", "--model", llama.Folder, "--adapter", lora, "--data", data);
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "does not fit");
            (code, stdout, error) = CliRun.Run("inspect", lora, "--model", llama.Folder);
            Assert.AreEqual(2, code);
            StringAssert.Contains(stdout, "no");
            StringAssert.Contains(error, $"inspect: {lora} does not fit {llama.Folder}: ");

            (code, _, error) = CliRun.Run("merge", "--model", gpt2.Folder, "--adapter", prompt, "--out", Path.Combine(work, "m"));
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "PROMPT_TUNING");
            StringAssert.Contains(error, "cannot be merged");
            Assert.IsFalse(Directory.Exists(Path.Combine(work, "m")));
            (code, _, error) = CliRun.Run("merge", "--model", gpt2.Folder, "--adapter", lora, "--out", work);
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "already exists and is not empty");
            // A failure that is not the input's (here the file system refuses the output folder) exits 1, still in one line.
            (code, _, error) = CliRun.Run("merge", "--model", gpt2.Folder, "--adapter", lora, "--out", Path.Combine(data, "merged"));
            Assert.AreEqual(1, code, error);
            StringAssert.StartsWith(error, "peft: error: ");
            Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
            (code, _, error) = CliRun.Run("merge", "--model", gpt2.Folder, "--adapter", lora, "--bogus");
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "merge: Unrecognized command or argument '--bogus'");
            (code, _, error) = CliRun.Run("inspect", Path.Combine(work, "nothing"));
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "folder not found");
            (code, _, error) = CliRun.Run("inspect", work);
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "neither config.json");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void EveryCommandHasHelpWithAnExample()
    {
        foreach (var command in PeftCommand.Commands)
        {
            var (code, stdout, error) = CliRun.Run(command.Name, "--help");
            Assert.AreEqual(0, code, error);
            StringAssert.Contains(stdout, "Example:");
            StringAssert.Contains(stdout, "peft " + command.Name);
        }
        CollectionAssert.IsSubsetOf(new[] { "train", "generate", "eval", "merge", "inspect", "tokenize", "logits" },
            PeftCommand.Commands.Select(c => c.Name).ToArray());
        var (top, help, _) = CliRun.Run("--help");
        Assert.AreEqual(0, top);
        StringAssert.Contains(help, "peft train --model");
    }
}
