using Peft.MLNet.Tests;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;
using Peft.Tuners.PeftModels;

namespace Peft.Cli.Tests;

[TestClass]
public sealed class MergeLayoutTests
{
    /// <summary>
    /// A float16 GPT2Model-style checkpoint (names without "transformer.") merges into a file with
    /// the same names, shapes and dtypes, which loads and gives the logits of base + adapter within
    /// float16 rounding (stated tolerance 2e-2 + 2e-2·|x|).
    /// </summary>
    [TestMethod]
    public void MergeWritesTheBaseNamesAndDtype()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        try
        {
            string weights = Path.Combine(tiny.Folder, "model.safetensors");
            var entries = new List<SafeTensorWriteEntry>();
            using (var file = SafeTensorsFile.Open(weights))
            {
                foreach (var (name, info) in file.Tensors)
                {
                    var halves = file.ReadFloat32(name).Select(v => (Half)v).ToArray();
                    string key = name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name;
                    entries.Add(new SafeTensorWriteEntry(key, SafeTensorDType.F16, info.Shape,
                        System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan()).ToArray()));
                }
            }
            SafeTensorsWriter.Write(weights, entries);
            string data = CliRun.WriteLines(work, "train.jsonl", TrainCommandTests.Completions);
            string adapter = Path.Combine(work, "lora"), merged = Path.Combine(work, "merged");
            var (code, _, error) = CliRun.Run("train", "--model", tiny.Folder, "--method", "lora", "--target-modules", "c_attn,c_fc", "--data", data,
                "--out", adapter, "--epochs", "3", "--lr", "5e-2", "--batch-size", "2");
            Assert.AreEqual(0, code, error);
            (code, _, error) = CliRun.Run("merge", "--model", tiny.Folder, "--adapter", adapter, "--out", merged);
            Assert.AreEqual(0, code, error);

            using (var before = SafeTensorsFile.Open(weights))
            using (var after = SafeTensorsFile.Open(Path.Combine(merged, "model.safetensors")))
            {
                CollectionAssert.AreEquivalent(before.Tensors.Keys.ToArray(), after.Tensors.Keys.ToArray());
                foreach (var (name, info) in before.Tensors)
                {
                    Assert.AreEqual(info.DType, after.GetInfo(name).DType, name);
                    CollectionAssert.AreEqual(info.Shape, after.GetInfo(name).Shape, name);
                }
            }
            var tokenizer = Tokenizer.Load(tiny.Folder);
            var ids = tokenizer.Encode("colour of grass? green.").Ids;
            var input = IntTensor.FromArray([.. ids], 1, ids.Count);
            var peft = new PeftModel(ModelLoader.LoadCausal(tiny.Folder));
            peft.LoadAdapter(adapter, "a");
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            var expected = peft.Forward(input).Logits.ToArray();
            var got = ModelLoader.LoadCausal(merged).Forward(inputIds: input).Logits.ToArray();
            for (int i = 0; i < got.Length; i++) Assert.AreEqual(expected[i], got[i], 2e-2 + 2e-2 * Math.Abs(expected[i]), $"logit {i}");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [TestMethod]
    public void MultitaskRowsCarryTheirTask()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\", \"task_id\": 0}",
                "{\"prompt\": \"c\", \"completion\": \"d\", \"task_id\": 1}");
            string adapter = Path.Combine(work, "mpt");
            var (code, _, error) = CliRun.Run("train", "--model", tiny.Folder, "--method", "multitask", "--num-tasks", "2", "--data", data, "--out", adapter,
                "--epochs", "1");
            Assert.AreEqual(0, code, error);
            StringAssert.Contains(File.ReadAllText(Path.Combine(adapter, "adapter_config.json")), "\"num_tasks\": 2");
            (code, _, error) = CliRun.Run("train", "--model", tiny.Folder, "--method", "multitask", "--num-tasks", "1", "--data", data,
                "--out", Path.Combine(work, "x"));
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, $"{data}:2: task_id 1 is out of range; --num-tasks is 1");
            (code, _, error) = CliRun.Run("generate", "--model", tiny.Folder, "--adapter", adapter, "--prompt", "c", "--max-new-tokens", "2");
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "--task-id");
            (code, _, error) = CliRun.Run("generate", "--model", tiny.Folder, "--adapter", adapter, "--prompt", "c", "--max-new-tokens", "2", "--task-id", "1");
            Assert.AreEqual(0, code, error);
            (code, _, error) = CliRun.Run("eval", "--model", tiny.Folder, "--adapter", adapter, "--data", data, "--json");
            Assert.AreEqual(0, code, error);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }
}
