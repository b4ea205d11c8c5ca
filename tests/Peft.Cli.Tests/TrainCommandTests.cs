using Peft.MLNet.Tests;
using Peft.Transformers.Tests;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Tests;

[TestClass]
public sealed class TrainCommandTests
{
    internal static readonly string[] Completions =
    [
        "{\"prompt\": \"colour of sky? \", \"completion\": \"blue.\"}",
        "{\"prompt\": \"colour of grass? \", \"completion\": \"green.\"}",
        "{\"prompt\": \"colour of snow? \", \"completion\": \"white.\"}",
        "{\"prompt\": \"colour of sun? \", \"completion\": \"yellow.\"}",
    ];

    [TestMethod]
    public void TrainsEveryMethodAndPrintsPlainProgress()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", Completions);
            string eval = CliRun.WriteLines(work, "eval.jsonl", Completions[..2]);
            foreach (var method in new[] { "lora", "prompt", "prefix", "ptuning", "multitask", "ia3" })
            {
                string output = Path.Combine(work, method);
                var (code, stdout, error) = CliRun.Run("train", "--model", tiny.Folder, "--method", method, "--data", data, "--eval", eval,
                    "--out", output, "--epochs", "2", "--batch-size", "2", "--lr", "1e-2", "--log-every", "1");
                Assert.AreEqual(0, code, method + ": " + error);
                StringAssert.Contains(stdout, "epoch 1/2 step 1/4 loss ");
                StringAssert.Contains(stdout, " lr ");
                StringAssert.Contains(stdout, "tok/s eta ");
                StringAssert.Contains(stdout, "epoch 1/2 eval loss ");
                StringAssert.Contains(stdout, "epoch 2/2 eval loss ");
                StringAssert.Contains(stdout, "perplexity ");
                Assert.IsTrue(File.Exists(Path.Combine(output, "adapter_config.json")), method);
                Assert.IsTrue(File.Exists(Path.Combine(output, "adapter_model.safetensors")), method);
                Assert.IsFalse(Directory.Exists(Path.Combine(output, "checkpoint")), "the checkpoint goes once the run is done");
            }
            // HF PEFT's option names reach the config.
            var (loraCode, _, loraError) = CliRun.Run("train", "--model", tiny.Folder, "--method", "lora", "--r", "4", "--lora-alpha", "16",
                "--lora-dropout", "0.1", "--target-modules", "c_attn,mlp.c_proj", "--data", data, "--out", Path.Combine(work, "lora4"), "--max-steps", "1");
            Assert.AreEqual(0, loraCode, loraError);
            string config = File.ReadAllText(Path.Combine(work, "lora4", "adapter_config.json"));
            StringAssert.Contains(config, "\"r\": 4");
            StringAssert.Contains(config, "\"lora_alpha\": 16");
            StringAssert.Contains(config, "\"mlp.c_proj\"");
            StringAssert.Contains(config, "\"base_model_name_or_path\"");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void CsvTsvClassificationAndSeq2SeqData()
    {
        using var gpt2 = TinyBase.Create();
        using var t5 = TinyBase.Create("t5");
        string work = CliRun.TempFolder();
        try
        {
            // RFC 4180: a quoted comma, a quoted line break and a doubled quote.
            string csv = CliRun.WriteLines(work, "train.csv", "id,question,answer", "1,\"colour of sky, please? \",blue.",
                "2,\"colour of\ngrass? \",\"green \"\"ish\"\".\"");
            var (code, stdout, error) = CliRun.Run("train", "--model", gpt2.Folder, "--method", "lora", "--data", csv,
                "--columns", "prompt=question,completion=answer", "--out", Path.Combine(work, "csv"), "--epochs", "1");
            Assert.AreEqual(0, code, error);
            StringAssert.Contains(stdout, "2 rows ({prompt, completion})");

            string tsv = CliRun.WriteLines(work, "train.tsv", "text\tlabel", "good food\tpos", "bad food\tneg", "great\tpos");
            (code, _, error) = CliRun.Run("train", "--model", gpt2.Folder, "--method", "lora", "--data", tsv, "--out", Path.Combine(work, "cls"),
                "--epochs", "2");
            Assert.AreEqual(0, code, error);
            StringAssert.Contains(File.ReadAllText(Path.Combine(work, "cls", "labels.json")), "[\"neg\",\"pos\"]");
            StringAssert.Contains(File.ReadAllText(Path.Combine(work, "cls", "adapter_config.json")), "SEQ_CLS");
            (code, stdout, error) = CliRun.Run("eval", "--model", gpt2.Folder, "--adapter", Path.Combine(work, "cls"), "--data", tsv);
            Assert.AreEqual(0, code, error);
            StringAssert.Contains(stdout, "accuracy");
            StringAssert.Contains(stdout, "/3)");
            (code, _, error) = CliRun.Run("generate", "--model", gpt2.Folder, "--adapter", Path.Combine(work, "cls"), "--prompt", "x");
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "sequence classifier");

            string s2s = CliRun.WriteLines(work, "s2s.jsonl", "{\"source\": \"abc\", \"target\": \"cba\"}", "{\"source\": \"xy\", \"target\": \"yx\"}");
            (code, _, error) = CliRun.Run("train", "--model", t5.Folder, "--method", "lora", "--data", s2s, "--out", Path.Combine(work, "t5"), "--epochs", "1");
            Assert.AreEqual(0, code, error);
            StringAssert.Contains(File.ReadAllText(Path.Combine(work, "t5", "adapter_config.json")), "SEQ_2_SEQ_LM");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void BadDataAndOptionsExitWithTwoAndSayWhere()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        try
        {
            string good = CliRun.WriteLines(work, "good.jsonl", Completions);
            string Out() => Path.Combine(work, "out-" + Guid.NewGuid().ToString("N"));
            void Expect(string expected, params string[] args)
            {
                var (code, _, error) = CliRun.Run(["train", "--model", tiny.Folder, "--out", Out(), .. args]);
                Assert.AreEqual(2, code, $"{string.Join(" ", args)}: {error}");
                StringAssert.StartsWith(error, "peft: ");
                Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
                Assert.IsFalse(error.Contains("   at ", StringComparison.Ordinal), "no stack trace");
                StringAssert.Contains(error, expected);
            }
            string malformed = CliRun.WriteLines(work, "malformed.jsonl", Completions[0], "{\"prompt\": \"x\", \"completion\": ", Completions[1]);
            Expect($"{malformed}:2: not valid JSON at column 31", "--method", "lora", "--data", malformed);
            string notObject = CliRun.WriteLines(work, "array.jsonl", Completions[0], "", "[1, 2]");
            Expect($"{notObject}:3: expected a JSON object", "--method", "lora", "--data", notObject);
            string wrongType = CliRun.WriteLines(work, "type.jsonl", "{\"prompt\": 5, \"completion\": \"x\"}");
            Expect($"{wrongType}:1: field 'prompt' must be a string; got the number 5", "--method", "lora", "--data", wrongType);
            string unknown = CliRun.WriteLines(work, "fields.jsonl", "{\"question\": \"a\", \"answer\": \"b\"}");
            Expect($"{unknown}:1: a row needs the fields", "--method", "lora", "--data", unknown);
            string chat = CliRun.WriteLines(work, "chat.jsonl", Completions[0], "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
            Expect($"{chat}:2: \"messages\" must be a list of at least two message objects", "--method", "lora", "--data", chat);
            string mixed = CliRun.WriteLines(work, "mixed.jsonl", Completions[0], "{\"text\": \"plain\"}");
            Expect($"{mixed}:2: a {{text}} row in a file of {{prompt, completion}} rows", "--method", "lora", "--data", mixed);
            string empty = CliRun.WriteLines(work, "empty.jsonl", "", "  ");
            Expect($"{empty}: no data rows", "--method", "lora", "--data", empty);
            Expect("data file not found: /no/such/train.jsonl", "--method", "lora", "--data", "/no/such/train.jsonl");
            string csv = CliRun.WriteLines(work, "train.csv", "q,a", "x,y");
            Expect($"{csv}: no column 'answer' (mapped to completion by --columns); the columns are 'q', 'a'",
                "--method", "lora", "--data", csv, "--columns", "prompt=q,completion=answer");
            string ragged = CliRun.WriteLines(work, "ragged.csv", "prompt,completion", "x,y", "only one");
            Expect($"{ragged}:3: 1 fields but the header has 2", "--method", "lora", "--data", ragged);
            Expect("'frobnicate'", "--method", "frobnicate", "--data", good);
            Expect("missing required option --method", "--data", good);
            Expect("--lr must be a number >= 0", "--method", "lora", "--data", good, "--lr", "-1");
            Expect("matches no linear layer", "--method", "lora", "--target-modules", "q_proj", "--data", good);
            Expect("not a checkpoint folder", "--method", "lora", "--data", good, "--resume", work);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void CtrlCLeavesACheckpointThatResumesToTheSameAdapter()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", [.. Completions, .. Completions]);
            string[] Args(string output) => ["train", "--model", tiny.Folder, "--method", "lora", "--lora-dropout", "0.1", "--data", data,
                "--out", output, "--epochs", "3", "--batch-size", "2", "--lr", "1e-2", "--log-every", "1"];
            string whole = Path.Combine(work, "whole"), parts = Path.Combine(work, "parts");
            Assert.AreEqual(0, CliRun.Run(Args(whole)).Code);

            using var interrupt = new CancellationTokenSource();
            var (code, _, error) = CliRun.Run(interrupt.Token, line => { if (line.Contains("step 5/12", StringComparison.Ordinal)) interrupt.Cancel(); }, Args(parts));
            Assert.AreEqual(1, code, error);
            string checkpoint = Path.Combine(parts, "checkpoint");
            StringAssert.Contains(error, "interrupted");
            StringAssert.Contains(error, $"--resume {checkpoint}");
            Assert.IsTrue(File.Exists(Path.Combine(checkpoint, "trainer_state.json")));
            Assert.IsFalse(File.Exists(Path.Combine(parts, "adapter_model.safetensors")), "no adapter from an interrupted run");

            var (resumed, stdout, resumeError) = CliRun.Run([.. Args(parts), "--resume", checkpoint]);
            Assert.AreEqual(0, resumed, resumeError);
            StringAssert.Contains(stdout, "resuming from");
            Assert.IsFalse(stdout.Contains("step 5/12", StringComparison.Ordinal), "the resumed run starts after the checkpoint's step");
            using var a = SafeTensorsFile.Open(Path.Combine(whole, "adapter_model.safetensors"));
            using var b = SafeTensorsFile.Open(Path.Combine(parts, "adapter_model.safetensors"));
            CollectionAssert.AreEquivalent(a.Tensors.Keys.ToArray(), b.Tensors.Keys.ToArray());
            foreach (string key in a.Tensors.Keys) CollectionAssert.AreEqual(a.ReadFloat32(key), b.ReadFloat32(key), key);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void ResumeFindsACheckpointOrAnOutFolderAKilledWriteLeftOnlyMovedAside()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", Completions);
            string[] Args(string output) => ["train", "--model", tiny.Folder, "--method", "lora", "--data", data, "--out", output, "--epochs", "2",
                "--batch-size", "2", "--lr", "1e-2", "--log-every", "1"];
            string whole = Path.Combine(work, "whole");
            Assert.AreEqual(0, CliRun.Run(Args(whole)).Code);
            byte[] expected = File.ReadAllBytes(Path.Combine(whole, "adapter_model.safetensors"));

            // What a kill between AtomicFolder's two moves leaves: the checkpoint, or OUT holding it, moved aside.
            foreach (bool outMovedAside in new[] { false, true })
            {
                string parts = Path.Combine(work, $"parts-{outMovedAside}"), checkpoint = Path.Combine(parts, "checkpoint");
                using var interrupt = new CancellationTokenSource();
                var (code, _, error) = CliRun.Run(interrupt.Token, line =>
                {
                    if (line.Contains("step 2/4", StringComparison.Ordinal)) interrupt.Cancel();
                }, Args(parts));
                Assert.AreEqual(1, code, error);
                if (outMovedAside) Directory.Move(parts, Path.Combine(work, $".{Path.GetFileName(parts)}.{Guid.NewGuid():N}.old"));
                else Directory.Move(checkpoint, Path.Combine(parts, $".checkpoint.{Guid.NewGuid():N}.old"));

                var (resumed, stdout, resumeError) = CliRun.Run([.. Args(parts), "--resume", checkpoint]);
                Assert.AreEqual(0, resumed, resumeError);
                StringAssert.Contains(stdout, "resuming from");
                CollectionAssert.AreEqual(expected, File.ReadAllBytes(Path.Combine(parts, "adapter_model.safetensors")), $"OUT moved aside: {outMovedAside}");
            }
            CollectionAssert.AreEquivalent(new[] { "train.jsonl", "whole", "parts-False", "parts-True" },
                Directory.GetFileSystemEntries(work).Select(Path.GetFileName).ToArray(), "nothing moved aside is left");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void AnOutFolderThatIsOrContainsTheCurrentDirectoryIsRefusedBeforeTraining()
    {
        // The adapter replaces OUT by moving it aside: the current directory would vanish from under the shell.
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", Completions);
            string here = Environment.CurrentDirectory;
            foreach (string output in new[] { here, Path.GetDirectoryName(here)! })
            {
                var (code, _, error) = CliRun.Run("train", "--model", tiny.Folder, "--method", "lora", "--data", data, "--out", output);
                Assert.AreEqual(2, code, error);
                Assert.AreEqual($"peft: Cannot replace {output}: it is or contains the current directory; write to another folder.", error.TrimEnd());
            }
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void AReadOnlyDestinationFailsNamingItAndKeepsThePreviousAdapterAndTheCheckpoint()
    {
        using var tiny = TinyBase.Create();
        using var destination = ImmutableFolder.Create();
        string work = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", Completions);
            string output = Path.Combine(destination.Path, "adapter");
            string[] Args(string seed) => ["train", "--model", tiny.Folder, "--method", "lora", "--data", data, "--out", output, "--max-steps", "2",
                "--batch-size", "2", "--seed", seed];
            var (code, _, error) = CliRun.Run(Args("1"));
            Assert.AreEqual(0, code, error);
            byte[] previous = File.ReadAllBytes(Path.Combine(output, "adapter_model.safetensors"));
            string previousConfig = File.ReadAllText(Path.Combine(output, "adapter_config.json"));

            // The adapter replaces OUT through a temporary folder beside it, which the kernel now refuses (EPERM, even for root).
            destination.Freeze();
            (code, _, error) = CliRun.Run(Args("2"));
            Assert.AreEqual(1, code, error);
            Assert.AreEqual($"peft: error: Could not write {output}: access denied: the destination is read-only or not writable (Access to the path " +
                $"'{destination.Path}/.adapter.", error[..(error.IndexOf(".adapter.", StringComparison.Ordinal) + ".adapter.".Length)]);
            StringAssert.EndsWith(error.TrimEnd(), $"is denied.). The previous {output} is unchanged.");
            Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
            CollectionAssert.AreEqual(previous, File.ReadAllBytes(Path.Combine(output, "adapter_model.safetensors")), "the previous adapter is intact");
            Assert.AreEqual(previousConfig, File.ReadAllText(Path.Combine(output, "adapter_config.json")));
            Assert.IsTrue(File.Exists(Path.Combine(output, "checkpoint", "trainer_state.json")), "the finished run's checkpoint stays to resume from");
            CollectionAssert.AreEqual(new[] { "adapter" }, Directory.GetFileSystemEntries(destination.Path).Select(Path.GetFileName).ToArray());
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }
}
