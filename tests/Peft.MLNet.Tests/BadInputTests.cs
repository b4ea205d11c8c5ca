using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Classification;
using Peft.MLNet.Runtime;

namespace Peft.MLNet.Tests;

/// <summary>Wrong columns, empty data, a missing or changed base, and cancellation fail as ML.NET components do, with a message that says what to do.</summary>
[TestClass]
public sealed class BadInputTests
{
    private static PeftTextClassificationTrainer Trainer(MLContext ml, string folder, string text = "Text", int epochs = 1) =>
        ml.MulticlassClassification.Trainers.PeftTextClassification(folder, sentence1ColumnName: text, epochs: epochs);

    private sealed class NumberRow
    {
        public float Text { get; set; }

        public string Sentiment { get; set; } = "";
    }

    [TestMethod]
    public void MissingOrMistypedColumnsNameTheColumnAndBothTypes()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment").Fit(data).Transform(data);

        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Trainer(ml, tiny.Folder, text: "Review").Fit(keyed));
        StringAssert.Contains(missing.Message, "'Review'");
        StringAssert.Contains(missing.Message, "'Text'", "lists the columns there are");

        var notKey = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Trainer(ml, tiny.Folder).Fit(ml.Transforms.CopyColumns("Label", "Sentiment").Fit(data).Transform(data)));
        StringAssert.Contains(notKey.Message, "expected Key<UInt32>, got String");
        StringAssert.Contains(notKey.Message, "MapValueToKey");

        var numbers = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1, Sentiment = "a" }, new NumberRow { Text = 2, Sentiment = "b" } });
        var numberKeyed = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment").Fit(numbers).Transform(numbers);
        var notText = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Trainer(ml, tiny.Folder).Fit(numberKeyed));
        StringAssert.Contains(notText.Message, "'Text'");
        StringAssert.Contains(notText.Message, "expected String, got Single");
    }

    [TestMethod]
    public void EmptyDataAndAMissingBaseFolderSayWhatToDo()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var keyer = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment").Fit(data);
        var empty = keyer.Transform(ml.Data.SkipRows(data, Reviews.Rows.Length));
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => Trainer(ml, tiny.Folder).Fit(empty));
        StringAssert.Contains(ex.Message, "no rows with a label");

        string nowhere = Path.Combine(tiny.Folder, "nowhere");
        var folder = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Trainer(ml, nowhere));
        StringAssert.Contains(folder.Message, nowhere);
    }

    [TestMethod]
    public void AChangedBaseFailsWithBothHashesAndARegisteredCopyIsUsedInstead()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment").Append(Trainer(ml, tiny.Folder)).Fit(data);
        var expected = model.Transform(data).GetColumn<float[]>("Score").First();
        string zip = Path.Combine(tiny.Folder, "model.zip");
        ml.Model.Save(model, data.Schema, zip);

        // The base moves elsewhere, and another base takes its folder.
        using var moved = TinyBase.Create();
        foreach (string file in Directory.GetFiles(tiny.Folder).Where(f => !f.EndsWith(".zip", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(moved.Folder, Path.GetFileName(file)), overwrite: true);
        using (var other = TinyBase.Create(seed: 99))
            File.Copy(Path.Combine(other.Folder, "model.safetensors"), Path.Combine(tiny.Folder, "model.safetensors"), overwrite: true);
        RuntimeCache.Clear();
        var loaded = new MLContext().Model.Load(zip, out _);
        // ML.NET wraps what a mapping throws in its cursor's exception; ours is inside.
        var thrown = Assert.Throws<Exception>(() => loaded.Transform(data).GetColumn<float[]>("Score").First());
        var ours = Chain(thrown).OfType<InvalidOperationException>().FirstOrDefault(e => e.Message.Contains("SHA-256", StringComparison.Ordinal));
        Assert.IsNotNull(ours, string.Join(" | ", Chain(thrown).Select(e => e.Message)));
        StringAssert.Contains(ours.Message, tiny.Folder);
        StringAssert.Contains(ours.Message, "PeftBaseModels.Register");

        PeftBaseModels.Register(moved.Folder);
        try
        {
            CollectionAssert.AreEqual(expected, loaded.Transform(data).GetColumn<float[]>("Score").First(),
                "the registered copy of the original base gives the same scores");
        }
        finally
        {
            PeftBaseModels.Clear();
        }
    }

    [TestMethod]
    public void AStateWrittenByAnotherVersionSaysSo()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        // A zip whose chain carries a state in another format, as another version of Peft.MLNet would write it.
        var columns = new ClassificationColumns("Label", "Text", null, "Score", "PredictedLabel");
        var chain = Peft.MLNet.Persistence.ClassificationChain.Estimator(ml, columns, "peft-mlnet/9 0123\n{}", ["a", "b"]).Fit(data);
        string zip = Path.Combine(tiny.Folder, "other-version.zip");
        ml.Model.Save(chain, data.Schema, zip);
        var loaded = new MLContext().Model.Load(zip, out _);
        var thrown = Assert.Throws<Exception>(() => loaded.Transform(data).GetColumn<float[]>("Score").First());
        var ours = Chain(thrown).OfType<InvalidDataException>().FirstOrDefault();
        Assert.IsNotNull(ours, string.Join(" | ", Chain(thrown).Select(e => e.Message)));
        StringAssert.Contains(ours.Message, "another version of Peft.MLNet");
        StringAssert.Contains(ours.Message, "peft-mlnet/9");
    }

    [TestMethod]
    public void CancellingTheContextStopsFit()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews.Rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment").Fit(data).Transform(data);
        // What Microsoft.ML.Experimental's MLContext.CancelExecution() calls (internal to ML.NET).
        var cancel = typeof(MLContext).GetMethod("CancelExecution", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)!;
        int steps = 0;
        ml.Log += (_, e) =>
        {
            if (e.Source.Contains("PeftTextClassification", StringComparison.Ordinal) && e.Message.Contains("step", StringComparison.Ordinal) && ++steps == 1)
                cancel.Invoke(ml, null);
        };
        var trainer = new PeftTextClassificationTrainer(ml, new PeftTextClassificationTrainer.Options
        {
            BaseModelFolder = tiny.Folder, Sentence1ColumnName = "Text", Epochs = 500, LogEverySteps = 1,
        });
        // Fit throws instead of finishing; ML.NET delivers log messages on its own thread, so how many
        // steps the log showed before the cancel landed varies with load: only "before the end" is certain.
        Assert.ThrowsExactly<OperationCanceledException>(() => trainer.Fit(keyed));
        Assert.IsLessThan(2500, steps, "training stopped before its 2500 steps");
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
            if (x is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain)) yield return inner;
        }
    }
}
