using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Peft.MLNet.Tests;

/// <summary>A model saved here predicts the same, bit for bit, in another process that has only the zip (and the base folder).</summary>
[TestClass]
public sealed class CrossProcessTests
{
    /// <summary>The predictor program's dll, built beside this test project (same configuration and framework).</summary>
    private static string PredictorDll()
    {
        string here = Path.GetDirectoryName(typeof(CrossProcessTests).Assembly.Location)!;      // tests/Peft.MLNet.Tests/bin/<Configuration>/<tfm>
        string framework = Path.GetFileName(here), configuration = Path.GetFileName(Path.GetDirectoryName(here)!);
        string dll = Path.GetFullPath(Path.Combine(here, "..", "..", "..", "..",
            "Peft.MLNet.Predictor", "bin", configuration, framework, "Peft.MLNet.Predictor.dll"));
        Assert.IsTrue(File.Exists(dll), $"the predictor is built with the tests: {dll}");
        return dll;
    }

    [TestMethod]
    public void AModelSavedHerePredictsTheSameInAnotherProcess()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment")
            .Append(ml.MulticlassClassification.Trainers.PeftTextClassification(tiny.Folder, sentence1ColumnName: "Text", epochs: 5, learningRate: 1e-2f))
            .Fit(data);
        string zip = Path.Combine(tiny.Folder, "model.zip"), texts = Path.Combine(tiny.Folder, "texts.txt");
        ml.Model.Save(model, data.Schema, zip);
        var probe = new[] { "a superb story", "boring acting", "the film was fine", "something else entirely" };
        File.WriteAllLines(texts, probe);
        var scored = model.Transform(ml.Data.LoadFromEnumerable(probe.Select(t => new Review { Text = t })));
        var keys = scored.GetColumn<uint>("PredictedLabel").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var expected = probe.Select((_, i) =>
            $"{keys[i]} {string.Join(",", scores[i].Select(s => BitConverter.SingleToInt32Bits(s).ToString(CultureInfo.InvariantCulture)))}").ToArray();

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { PredictorDll(), zip, texts }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd(), error = process.StandardError.ReadToEnd();
        Assert.IsTrue(process.WaitForExit(120_000), "the predictor finished");
        Assert.AreEqual(0, process.ExitCode, error);
        CollectionAssert.AreEqual(expected, output.Split('\n', StringSplitOptions.RemoveEmptyEntries), "same predicted keys and score bits in another process");
    }
}
