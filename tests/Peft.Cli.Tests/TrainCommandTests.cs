using Peft.MLNet.Tests;

namespace Peft.Cli.Tests;

[TestClass]
public sealed class TrainCommandTests
{
    private static readonly string[] Completions =
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
                StringAssert.Contains(stdout, "tok/s eta ");
                StringAssert.Contains(stdout, "epoch 2/2 eval loss ");
                StringAssert.Contains(stdout, "perplexity ");
                Assert.IsTrue(File.Exists(Path.Combine(output, "adapter_config.json")), method);
                Assert.IsTrue(File.Exists(Path.Combine(output, "adapter_model.safetensors")), method);
                Assert.IsFalse(Directory.Exists(Path.Combine(output, "checkpoint")), "the checkpoint goes once the run is done");
            }
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }
}
