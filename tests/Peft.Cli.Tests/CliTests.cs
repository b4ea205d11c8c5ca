using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Tests;

[TestClass]
public sealed class CliTests
{
    private static string Fixture(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "hf");
            if (Directory.Exists(candidate)) return Path.Combine([candidate, .. parts]);
        }
        throw new DirectoryNotFoundException("shared/fixtures/hf not found beside the repository.");
    }

    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), $"peft-cli-{Guid.NewGuid():N}-{name}");

    // The fixture's inputs under the names the CLI reads (as int64, the dtype PyTorch writes).
    private static string InputsFrom(string caseName, params string[] names)
    {
        string path = Temp("in.safetensors");
        using var expected = SafeTensorsFile.Open(Fixture(caseName, "expected.safetensors"));
        var entries = names.Where(n => expected.Contains("input." + n)).Select(n =>
        {
            var info = expected.GetInfo("input." + n);
            return new SafeTensorWriteEntry(n, info.DType, info.Shape, expected.GetBytes("input." + n).ToArray());
        }).ToList();
        SafeTensorsWriter.Write(path, entries);
        return path;
    }

    private static (int Code, string Error) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = PeftCommand.Run(args, stdout, stderr);
        return (code, stderr.ToString());
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    [DataRow("t5_base")]
    public void LogitsAndGenerateReproduceTheFixtures(string caseName)
    {
        string inputs = InputsFrom(caseName, "input_ids", "attention_mask", "labels", "decoder_input_ids");
        string logits = Temp("logits.safetensors"), sequences = Temp("seq.safetensors");
        try
        {
            var (code, error) = Run("logits", "--model", Fixture(caseName, "base"), "--inputs", inputs, "--out", logits);
            Assert.AreEqual(0, code, error);
            using var expected = SafeTensorsFile.Open(Fixture(caseName, "expected.safetensors"));
            using (var got = SafeTensorsFile.Open(logits))
            {
                var e = expected.ReadFloat32("logits");
                var g = got.ReadFloat32("logits");
                CollectionAssert.AreEqual(expected.GetInfo("logits").Shape, got.GetInfo("logits").Shape);
                for (int i = 0; i < e.Length; i++) Assert.AreEqual(e[i], g[i], 2e-4 + 1e-4 * Math.Abs(e[i]), $"logit {i}");
                Assert.AreEqual(expected.ReadFloat32("train.loss")[0], got.ReadFloat32("loss")[0], 1e-5);
            }
            (code, error) = Run("generate", "--model", Fixture(caseName, "base"), "--inputs", inputs, "--greedy", "--max-new-tokens", "8", "--out", sequences);
            Assert.AreEqual(0, code, error);
            using var seq = SafeTensorsFile.Open(sequences);
            Assert.AreEqual(SafeTensorDType.I64, seq.GetInfo("sequences").DType);
            CollectionAssert.AreEqual(expected.ReadInt32("generate.ids"), seq.ReadInt32("sequences"));
        }
        finally
        {
            foreach (var f in new[] { inputs, logits, sequences }) File.Delete(f);
        }
    }

    [TestMethod]
    [DataRow("gpt2_base", "bf16")]
    [DataRow("llama_base", "f16")]
    [DataRow("t5_base", "bf16")]
    public void GenerateOnA16BitBaseRunsAndAnUnknownFormatIsRefused(string caseName, string format)
    {
        string inputs = InputsFrom(caseName, "input_ids", "attention_mask");
        string sequences = Temp("seq.safetensors");
        try
        {
            var (code, error) = Run("generate", "--model", Fixture(caseName, "base"), "--inputs", inputs, "--greedy", "--max-new-tokens", "8",
                "--quantize", format, "--out", sequences);
            Assert.AreEqual(0, code, error);
            using var expected = SafeTensorsFile.Open(Fixture(caseName, "expected.safetensors"));
            using var seq = SafeTensorsFile.Open(sequences);
            // The weights are rounded to 16 bits, which moves logits by ~1e-4 (F16) to ~1e-3 (BF16): the fixtures' greedy tokens stay.
            CollectionAssert.AreEqual(expected.ReadInt32("generate.ids"), seq.ReadInt32("sequences"), $"{caseName} --quantize {format}");
            (code, error) = Run("generate", "--model", Fixture(caseName, "base"), "--inputs", inputs, "--quantize", "fp8", "--out", sequences);
            Assert.AreEqual(2, code);
            StringAssert.Contains(error, "bf16");
        }
        finally
        {
            foreach (var f in new[] { inputs, sequences }) File.Delete(f);
        }
    }

    [TestMethod]
    public void BadUsageAndInputExitWithCodeTwoAndOneLine()
    {
        string model = Fixture("gpt2_base", "base");
        Assert.AreEqual(2, Run().Code);
        var (code, error) = Run("frobnicate");
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "unknown command 'frobnicate'");
        (code, error) = Run("logits", "--model", model, "--out", Temp("x"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "missing required option --inputs");
        (code, error) = Run("logits", "--model", model, "--inputs", "/nonexistent/in.safetensors", "--out", Temp("x"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "inputs file not found");
        (code, error) = Run("generate", "--model", model, "--inputs", "x", "--out", "y");
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "--greedy");
        Assert.AreEqual(1, error.Trim().Split('\n').Length, "one line");

        string corrupt = Temp("corrupt.safetensors");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        (code, error) = Run("logits", "--model", model, "--inputs", corrupt, "--out", Temp("x"));
        File.Delete(corrupt);
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "header length");

        string outOfRange = Temp("ids.safetensors");
        SafeTensorsWriter.Write(outOfRange, [SafeTensorWriteEntry.Int64("input_ids", [5, 500], 1, 2)]);
        string output = Temp("out.safetensors");
        (code, error) = Run("logits", "--model", model, "--inputs", outOfRange, "--out", output);
        File.Delete(outOfRange);
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "500");
        StringAssert.Contains(error, "[0, 128)");
        Assert.IsFalse(File.Exists(output), "no output file after a failure");

        string adapterDir = Directory.CreateTempSubdirectory().FullName;
        string inputs = InputsFrom("gpt2_base", "input_ids");
        (code, error) = Run("logits", "--model", model, "--adapter", adapterDir, "--inputs", inputs, "--out", Temp("y"));
        Directory.Delete(adapterDir);
        File.Delete(inputs);
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "no adapter_config.json");
    }
}
