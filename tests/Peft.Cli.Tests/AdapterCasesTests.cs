using System.Text.Json;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Tests;

/// <summary>Every case of ../shared/fixtures/hf reproduced through the command line, adapters included.</summary>
[TestClass]
public sealed class AdapterCasesTests
{
    private static string HfRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "hf");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("shared/fixtures/hf not found beside the repository.");
    }

    public static IEnumerable<object[]> Cases()
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(HfRoot(), "index.json")));
        foreach (var c in index.RootElement.GetProperty("cases").EnumerateArray()) yield return [c.GetString()!];
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void LogitsAndGenerationReproduceTheCase(string caseName)
    {
        string folder = Path.Combine(HfRoot(), caseName);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "case.json")));
        var root = doc.RootElement;
        string model = Path.Combine(folder, root.GetProperty("base_dir").GetString()!);
        var adapterArgs = root.GetProperty("adapter_dir").ValueKind == JsonValueKind.String
            ? new[] { "--adapter", Path.Combine(folder, root.GetProperty("adapter_dir").GetString()!) } : [];
        string inputs = Path.Combine(Path.GetTempPath(), $"peft-case-{Guid.NewGuid():N}.safetensors");
        string logits = inputs + ".logits", sequences = inputs + ".seq";
        using var expected = SafeTensorsFile.Open(Path.Combine(folder, "expected.safetensors"));
        try
        {
            var names = new[] { "input_ids", "attention_mask", "labels", "decoder_input_ids", "task_ids" };
            SafeTensorsWriter.Write(inputs, names.Where(n => expected.Contains("input." + n)).Select(n =>
                new SafeTensorWriteEntry(n, expected.GetInfo("input." + n).DType, expected.GetInfo("input." + n).Shape,
                    expected.GetBytes("input." + n).ToArray())));
            var stderr = new StringWriter();
            int code = PeftCommand.Run(["logits", "--model", model, .. adapterArgs, "--inputs", inputs, "--out", logits], new StringWriter(), stderr);
            Assert.AreEqual(0, code, stderr.ToString());
            var tolerance = root.GetProperty("tolerances").GetProperty("logits");
            double atol = tolerance.GetProperty("atol").GetDouble(), rtol = tolerance.GetProperty("rtol").GetDouble();
            using (var got = SafeTensorsFile.Open(logits))
            {
                CollectionAssert.AreEqual(expected.GetInfo("logits").Shape, got.GetInfo("logits").Shape, "logits shape");
                var e = expected.ReadFloat32("logits");
                var g = got.ReadFloat32("logits");
                for (int i = 0; i < e.Length; i++)
                    Assert.AreEqual(e[i], g[i], atol + rtol * Math.Abs(e[i]), $"{caseName} logit {i}");
                if (expected.Contains("train.loss"))
                    Assert.AreEqual(expected.ReadFloat32("train.loss")[0], got.ReadFloat32("loss")[0], 1e-5, $"{caseName} loss");
            }
            int newTokens = root.GetProperty("generation").GetProperty("max_new_tokens").GetInt32();
            string reference = root.TryGetProperty("generation_reference", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "generate.ids";
            foreach (var cacheArgs in new[] { Array.Empty<string>(), ["--no-cache"] })
            {
                code = PeftCommand.Run(["generate", "--model", model, .. adapterArgs, "--inputs", inputs, "--greedy", "--max-new-tokens",
                    newTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", sequences, .. cacheArgs], new StringWriter(), stderr);
                Assert.AreEqual(0, code, stderr.ToString());
                using var seq = SafeTensorsFile.Open(sequences);
                CollectionAssert.AreEqual(expected.ReadInt32(reference), seq.ReadInt32("sequences"), $"{caseName} {string.Join(" ", cacheArgs)}");
            }
        }
        finally
        {
            foreach (var f in new[] { inputs, logits, sequences }) File.Delete(f);
        }
    }
}
