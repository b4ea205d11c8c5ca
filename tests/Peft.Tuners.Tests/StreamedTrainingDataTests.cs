using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.Training;

namespace Peft.Tuners.Tests;

/// <summary>
/// The Trainer reads a <see cref="TrainingData"/> pass by pass: rows are pulled a micro-batch at a
/// time (never all at once), a streamed source trains to the same weights as the same rows in a
/// list, and a source that breaks its count fails with a message saying so.
/// </summary>
[TestClass]
public sealed class StreamedTrainingDataTests
{
    private static PeftModel Gpt2WithLora(out LoraAdapter lora)
    {
        var model = new PeftModel(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));
        lora = (LoraAdapter)model.AddAdapter("lora", new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = TargetModules.FromNames("c_attn") }, seed: 1);
        return model;
    }

    /// <summary>Row i: ids derived from i alone, so every pass can rebuild any row without storing it.</summary>
    private static TrainingExample Row(long i) => new([(int)(1 + i % 50), (int)(60 + i % 7), (int)(80 + i % 11)]);

    /// <summary>
    /// Rows made on demand in source order or in a seeded order (a permutation computed from the
    /// count alone), counting how many it has handed out and how many passes are open.
    /// </summary>
    private sealed class GeneratedRows(int count, int? yieldOnly = null) : TrainingData
    {
        public int Yielded { get; private set; }

        public int OpenPasses { get; private set; }

        public override int Count => count;

        public override IEnumerable<IndexedExample> Read(ulong? shuffleSeed, CancellationToken cancellationToken = default)
        {
            var order = Enumerable.Range(0, count).ToArray();
            if (shuffleSeed is ulong seed)
            {
                var random = new SeededRandom(seed);
                for (int i = order.Length - 1; i > 0; i--)
                {
                    int j = random.NextInt(i + 1);
                    (order[i], order[j]) = (order[j], order[i]);
                }
            }
            OpenPasses++;
            try
            {
                foreach (int index in order.Take(yieldOnly ?? count))
                {
                    Yielded++;
                    yield return new IndexedExample(index, Row(index));
                }
            }
            finally
            {
                OpenPasses--;
            }
        }
    }

    [TestMethod]
    public void TheTrainerPullsOnlyTheRowsOfTheStepsItTakes()
    {
        var model = Gpt2WithLora(out _);
        var rows = new GeneratedRows(1000);
        new Trainer(model, new TrainerOptions { MaxSteps = 3, BatchSize = 4, GradientAccumulationSteps = 2, LearningRate = 0.01f }).Train(rows);
        Assert.AreEqual(3 * 4 * 2, rows.Yielded, "three steps of two micro-batches of four rows, out of 1000");
        Assert.AreEqual(0, rows.OpenPasses, "the pass is closed when training ends");
    }

    [TestMethod]
    public void StreamedRowsTrainToTheWeightsOfTheSameRowsInAList()
    {
        float[][] Run(TrainingData data)
        {
            var model = Gpt2WithLora(out var lora);
            // 10 rows in batches of 4: each epoch ends on a partial batch, and three epochs reshuffle.
            new Trainer(model, new TrainerOptions { Epochs = 3, BatchSize = 4, LearningRate = 0.01f, Seed = 7 }).Train(data);
            return lora.Parameters.Select(p => p.ToArray()).ToArray();
        }
        var streamed = Run(new GeneratedRows(10));
        var listed = Run(TrainingData.FromList(Enumerable.Range(0, 10).Select(i => Row(i)).ToList()));
        for (int i = 0; i < streamed.Length; i++) CollectionAssert.AreEqual(listed[i], streamed[i], $"tensor {i}");
    }

    [TestMethod]
    public void ASourceThatBreaksItsCountOrHasABadRowIsNamed()
    {
        var model = Gpt2WithLora(out _);
        var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 4, LearningRate = 0.01f });
        string shortPass = Assert.ThrowsExactly<InvalidDataException>(() => trainer.Train(new GeneratedRows(10, yieldOnly: 6))).Message;
        StringAssert.Contains(shortPass, "ended after 6 rows but its count is 10");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => trainer.Evaluate(new GeneratedRows(10, yieldOnly: 9))).Message, "count is 10");

        var bad = new List<TrainingExample>(Enumerable.Range(0, 8).Select(i => Row(i))) { [5] = new TrainingExample([1, 100_000]) };
        string message = Assert.ThrowsExactly<ArgumentException>(() => trainer.Train(TrainingData.FromList(bad))).Message;
        StringAssert.Contains(message, "training row 5: input id 100000", "the row's number in the data, not its place in the shuffled batch");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => trainer.Train(new GeneratedRows(0))).Message, "empty");
    }
}
