using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Classification;
using Peft.MLNet.Data;
using Peft.Tuners.Lora;

namespace Peft.MLNet.Tests;

/// <summary>
/// Fit streams the IDataView: a counting pass, then one cursor per epoch that tokenizes as it reads
/// and shuffles through a bounded buffer; nothing holds the whole data.
/// </summary>
[TestClass]
public sealed class StreamingFitTests
{
    /// <summary>A row with a key label (0 is ML.NET's missing value) and a text.</summary>
    public sealed class KeyedRow
    {
        [KeyType(3)]
        public uint Label { get; set; }

        public string Text { get; set; } = "";
    }

    /// <summary>Rows made as they are enumerated, counting rows produced and passes started.</summary>
    private sealed class CountingRows<T>(int count, Func<int, T> make) : IEnumerable<T>
    {
        public int Produced;
        public int Passes;

        public IEnumerator<T> GetEnumerator()
        {
            Interlocked.Increment(ref Passes);
            for (int i = 0; i < count; i++)
            {
                Interlocked.Increment(ref Produced);
                yield return make(i);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private static ClassificationRowFormat Format() =>
        new(new ClassificationColumns("Label", "Text", null, "Score", "PredictedLabel"), (text, _) => [text.Length]);

    [TestMethod]
    public void APassHoldsOnlyTheShuffleBufferAndGivesEveryLabelledRowOnce()
    {
        var ml = new MLContext(seed: 1);
        // Some rows have no label (ML.NET's key 0: an enumerable's key property is 0-based, so 3 of
        // a 3-key type reads as missing) and are left out and counted.
        var rows = new CountingRows<KeyedRow>(300, i => new KeyedRow { Label = (uint)(i % 4), Text = new string('x', 1 + i % 40) });
        var view = ml.Data.LoadFromEnumerable(rows);
        var keys = view.GetColumn<uint>("Label").ToArray();
        var expected = Enumerable.Range(0, 300).Where(i => keys[i] != 0).Select(i => (long)i).ToArray();
        Assert.AreEqual(75, keys.Count(k => k == 0), "the data as ML.NET reads it has unlabelled rows");
        var data = new DataViewTrainingData(view, Format(), shuffleBufferSize: 16, CancellationToken.None);
        Assert.AreEqual(expected.Length, data.Count);
        Assert.AreEqual(75L, data.Skipped);

        int before = rows.Produced;
        using (var pass = data.Read(shuffleSeed: 5).GetEnumerator())
        {
            Assert.IsTrue(pass.MoveNext());
            int readAhead = rows.Produced - before;
            Assert.IsLessThanOrEqualTo(16 + 16 / 3 + 2, readAhead, "the first row leaves the buffer once 16 labelled rows (of 22 read) are in it");
        }

        long[] Order(ulong? seed) => data.Read(seed).Select(r => r.Index).ToArray();
        var shuffled = Order(5);
        CollectionAssert.AreEquivalent(expected, shuffled, "each labelled row once, under its source index");
        CollectionAssert.AreNotEqual(expected, shuffled, "a shuffled pass is not source order");
        CollectionAssert.AreEqual(shuffled, Order(5), "the same seed gives the same order");
        CollectionAssert.AreNotEqual(shuffled, Order(6));
        CollectionAssert.AreEqual(expected, Order(null), "no seed: source order");
        var tenth = data.Read(5).First(r => r.Index == 10).Example;
        CollectionAssert.AreEqual(new[] { 11 }, tenth.InputIds.ToArray(), "tokenized from the row's own text");
        CollectionAssert.AreEqual(new[] { (int)keys[10] - 1 }, tenth.Labels!.ToArray(), "class = key - 1");
    }

    [TestMethod]
    public void FitReadsTheDataAgainEachEpochAndStillLearnsWithASmallBuffer()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var source = new CountingRows<Review>(Reviews.Rows.Length, i => Reviews.Rows[i]);
        var data = ml.Data.LoadFromEnumerable(source);
        var trainer = ml.MulticlassClassification.Trainers.PeftTextClassification(new PeftTextClassificationTrainer.Options
        {
            BaseModelFolder = tiny.Folder,
            Sentence1ColumnName = "Text",
            Method = new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = Tuners.Adapters.TargetModules.FromNames("c_attn") },
            Epochs = 30,
            BatchSize = 8,
            LearningRate = 1e-2f,
            ShuffleBufferSize = 6,
        });
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment").Append(trainer).Fit(data);
        Assert.IsGreaterThanOrEqualTo(30, source.Passes, $"one cursor per epoch (got {source.Passes} passes), not one materialization");
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(Reviews.Rows)));
        Assert.IsGreaterThanOrEqualTo(0.9, metrics.MicroAccuracy, $"training accuracy {metrics.MicroAccuracy} with a 6-row shuffle buffer");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.PeftTextClassification(
            new PeftTextClassificationTrainer.Options { BaseModelFolder = tiny.Folder, ShuffleBufferSize = 0 })).Message, "ShuffleBufferSize");
    }
}
