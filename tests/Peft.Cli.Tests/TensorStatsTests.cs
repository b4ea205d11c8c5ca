using System.Text.RegularExpressions;
using Peft.MLNet.Tests;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Tests;

[TestClass]
public sealed class TensorStatsTests
{
    [TestMethod]
    public void TensorModeStatsSplitPromptProcessingFromDecodingForABatch()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder();
        Directory.CreateDirectory(work);
        try
        {
            // Three left-padded prompts: 4 + 2 + 3 = 9 real tokens.
            int[] ids = [104, 101, 108, 108, 256, 256, 104, 105, 256, 97, 98, 99];
            int[] mask = [1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1];
            string inputs = Path.Combine(work, "in.safetensors");
            SafeTensorsWriter.Write(inputs,
            [
                new SafeTensorWriteEntry("input_ids", SafeTensorDType.I32, [3, 4], ids.SelectMany(BitConverter.GetBytes).ToArray()),
                new SafeTensorWriteEntry("attention_mask", SafeTensorDType.I32, [3, 4], mask.SelectMany(BitConverter.GetBytes).ToArray()),
            ]);
            var (code, _, error) = CliRun.Run("generate", "--model", tiny.Folder, "--inputs", inputs, "--out", Path.Combine(work, "out.safetensors"),
                "--greedy", "--max-new-tokens", "5", "--stats");
            Assert.AreEqual(0, code, error);
            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            StringAssert.Matches(lines.Single(l => l.Contains("prompt eval time")), new Regex(@"= +[\d.]+ ms / +9 prompt tokens \( *[\d.]+ ms per token"));
            var generated = int.Parse(Regex.Match(lines.Single(l => l.Contains("peft: eval time")), @"/ +(\d+) generated tokens").Groups[1].Value);
            using var output = SafeTensorsFile.Open(Path.Combine(work, "out.safetensors"));
            int steps = output.GetInfo("sequences").Shape[1] - 4;
            Assert.AreEqual(3 * (steps - 1), generated, "every row's tokens after the first step");
            Assert.IsFalse(error.Contains("including prefill", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
