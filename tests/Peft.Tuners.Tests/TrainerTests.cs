using Peft.Tensors;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.Training;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class TrainerTests
{
    private static PeftModel Gpt2() => new(ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base")));

    /// <summary>
    /// The fixture's GPT-2 shape with weights drawn at a larger scale: the fixture's 0.02 init makes
    /// logits nearly input-independent, so no adapter could fit a mapping through it.
    /// </summary>
    private static PeftModel ExpressiveGpt2()
    {
        var model = ModelLoader.CreateCausal(Transformers.Configuration.ModelConfig.Load(Fixtures.Hf("gpt2_base", "base")));
        ModelInitializer.InitializeRandom(model.Parameters, seed: 11, std: 0.3f);
        return new PeftModel(model);
    }

    /// <summary>Rows "key value": a fixed value per key, varied lengths; loss only on the value.</summary>
    private static List<TrainingExample> KeyValueRows(int count, int seed)
    {
        var random = new SeededRandom((ulong)seed);
        var rows = new List<TrainingExample>();
        for (int i = 0; i < count; i++)
        {
            int key = 10 + random.NextInt(6);
            int filler = random.NextInt(3);
            var ids = new List<int>();
            for (int f = 0; f < filler; f++) ids.Add(40 + random.NextInt(20));
            ids.Add(key);
            ids.Add(70 + (key - 10) * 3);
            var labels = ids.Select((_, t) => t == ids.Count - 1 ? ids[t] : -100).ToList();
            rows.Add(new TrainingExample(ids, labels));
        }
        return rows;
    }

    private static float[][] Snapshot(IEnumerable<Tensor> tensors) => tensors.Select(t => t.ToArray()).ToArray();

    [TestMethod]
    public void PromptTuningLearnsAKeyValueMappingAndOnlyAdapterWeightsChange()
    {
        var model = ExpressiveGpt2();
        model.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 4 }, seed: 3);
        var baseBefore = Snapshot(model.BaseModel.Parameters.All.Select(p => p.Tensor));
        var trainer = new Trainer(model, new TrainerOptions { Epochs = 25, BatchSize = 8, LearningRate = 0.1f, WarmupSteps = 5, LogEverySteps = 5 });
        var train = KeyValueRows(32, 1);
        var eval = KeyValueRows(16, 2);
        var before = trainer.Evaluate(eval);
        var reports = new List<TrainingProgress>();
        var result = trainer.Train(train, eval, new SynchronousProgress<TrainingProgress>(reports.Add));
        var after = trainer.Evaluate(eval);
        Assert.IsLessThan(before.Loss * 0.5, after.Loss, $"evaluation loss {before.Loss:F3} -> {after.Loss:F3}");
        Assert.AreEqual(Math.Exp(after.Loss), after.Perplexity, 1e-9);
        Assert.AreEqual(16, after.Tokens, "one target token per row");
        Assert.AreEqual(100, result.Steps);
        CollectionAssert.AreEqual(baseBefore.SelectMany(a => a).ToArray(),
            Snapshot(model.BaseModel.Parameters.All.Select(p => p.Tensor)).SelectMany(a => a).ToArray(), "the base model stays frozen");

        var logs = reports.Where(r => r.EvaluationLoss is null).ToList();
        Assert.AreEqual(20, logs.Count);
        CollectionAssert.AreEqual(Enumerable.Range(1, 20).Select(i => i * 5).ToArray(), logs.Select(r => r.Step).ToArray());
        Assert.AreEqual(0.1f * 4 / 5, logs[0].LearningRate, 1e-7f, "the 5th step (index 4) is the last of a 5-step warmup from 0");
        Assert.IsTrue(logs.All(r => r.TokensPerSecond > 0 && r.Remaining >= TimeSpan.Zero && r.TotalSteps == 100));
        Assert.AreEqual(25, reports.Count(r => r.EvaluationLoss is not null), "one evaluation per epoch");
    }

    [TestMethod]
    public void GradientAccumulationGivesTheSameWeightsAsOneBigBatch()
    {
        float[][] Run(int batch, int accumulation)
        {
            var model = Gpt2();
            var lora = (LoraAdapter)model.AddAdapter("lora",
                new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = TargetModules.FromNames("c_attn", "c_fc") }, seed: 1);
            new Trainer(model, new TrainerOptions { MaxSteps = 4, BatchSize = batch, GradientAccumulationSteps = accumulation,
                LearningRate = 0.01f, MaxGradNorm = 0.5f })
                .Train(KeyValueRows(16, 5));
            return Snapshot(lora.Parameters);
        }
        var big = Run(4, 1);
        var accumulated = Run(2, 2);
        for (int i = 0; i < big.Length; i++)
            for (int j = 0; j < big[i].Length; j++)
                Assert.AreEqual(big[i][j], accumulated[i][j], 2e-6f, $"tensor {i} element {j}");
    }

    [TestMethod]
    public void ACancelledRunResumedFromItsCheckpointEndsWithTheUninterruptedWeights()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"peft-ckpt-{Guid.NewGuid():N}");
        try
        {
            static PeftModel Model()
            {
                var model = Gpt2();
                model.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 2, PrefixProjection = true, EncoderHiddenSize = 8 }, seed: 2);
                // Module and bias copies (trained in the base's tensors) must resume too.
                model.AddAdapter("lora", new LoraConfig { R = 2, LoraAlpha = 4, LoraDropout = 0.2f, TargetModules = TargetModules.FromNames("c_attn"),
                    ModulesToSave = ["ln_f"], Bias = LoraBias.LoraOnly }, seed: 3);
                model.SetActiveAdapters("prefix", "lora");
                return model;
            }
            var data = KeyValueRows(12, 7);
            var options = new TrainerOptions { Epochs = 3, BatchSize = 4, LearningRate = 0.02f, Schedule = LearningRateScheduleKind.Cosine,
                WarmupSteps = 2, LogEverySteps = 1 };

            var full = Model();
            new Trainer(full, options).Train(data);
            var expected = Snapshot(full.TrainableParameters);
            Assert.IsTrue(full.TrainableParameters.Contains(full.BaseModel.Parameters["transformer.ln_f.weight"]));

            var first = Model();
            using var cancel = new CancellationTokenSource();
            var interrupted = new Trainer(first, options with { CheckpointFolder = folder });
            Assert.ThrowsExactly<OperationCanceledException>(() => interrupted.Train(data, progress: new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.Step == 4) cancel.Cancel();
            }), cancellationToken: cancel.Token));
            Assert.IsTrue(File.Exists(Path.Combine(folder, "trainer_state.json")), "cancellation writes a checkpoint");

            var resumed = Model();
            var trainer = new Trainer(resumed, options with { CheckpointFolder = folder });
            trainer.ResumeFrom(folder);
            var result = trainer.Train(data);
            Assert.AreEqual(9, result.Steps);
            var actual = Snapshot(resumed.TrainableParameters);
            for (int i = 0; i < expected.Length; i++) CollectionAssert.AreEqual(expected[i], actual[i], $"tensor {i}");

            var other = Gpt2();
            other.AddAdapter("lora", new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn") });
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new Trainer(other, options).ResumeFrom(folder)).Message, "prefix/");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void ResumeFromRecoversACheckpointAKilledWriteLeftOnlyMovedAsideAndNeverReadsTheHalfWrittenOne()
    {
        string parent = Directory.CreateTempSubdirectory("peft-ckpt-").FullName;
        string folder = Path.Combine(parent, "checkpoint");
        try
        {
            static PeftModel Model()
            {
                var model = Gpt2();
                var lora = new LoraConfig { R = 2, LoraAlpha = 4, LoraDropout = 0.2f, TargetModules = TargetModules.FromNames("c_attn") };
                model.AddAdapter("lora", lora, seed: 3);
                return model;
            }
            var data = KeyValueRows(8, 5);
            var options = new TrainerOptions { Epochs = 2, BatchSize = 4, LearningRate = 0.02f, LogEverySteps = 1 };
            var full = Model();
            new Trainer(full, options).Train(data);
            var expected = Snapshot(full.TrainableParameters);

            var first = Model();
            using var cancel = new CancellationTokenSource();
            Assert.ThrowsExactly<OperationCanceledException>(() => new Trainer(first, options with { CheckpointFolder = folder, CheckpointEverySteps = 1 })
                .Train(data, progress: new SynchronousProgress<TrainingProgress>(p =>
                {
                    if (p.Step == 2) cancel.Cancel();
                }), cancellationToken: cancel.Token));
            // What a process killed while writing the next checkpoint leaves between AtomicFolder's two moves: the last whole
            // checkpoint moved aside, a newer one half-written beside it.
            Directory.Move(folder, Path.Combine(parent, $".checkpoint.{Guid.NewGuid():N}.old"));
            string halfWritten = Directory.CreateDirectory(Path.Combine(parent, $".checkpoint.{Guid.NewGuid():N}.tmp")).FullName;
            File.WriteAllText(Path.Combine(halfWritten, "trainer_state.json"), "{\"step\": 3, \"total_st");

            var resumed = Model();
            var trainer = new Trainer(resumed, options with { CheckpointFolder = folder });
            trainer.ResumeFrom(folder);
            CollectionAssert.AreEqual(new[] { "checkpoint" }, Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).ToArray(),
                "the checkpoint is back at its name, the half-written one removed");
            var steps = new List<int>();
            trainer.Train(data, progress: new SynchronousProgress<TrainingProgress>(p => steps.Add(p.Step)));
            CollectionAssert.AreEqual(new[] { 3, 4 }, steps, "resumed after step 2, the last whole checkpoint");
            var actual = Snapshot(resumed.TrainableParameters);
            for (int i = 0; i < expected.Length; i++) CollectionAssert.AreEqual(expected[i], actual[i], $"tensor {i}");
        }
        finally
        {
            Directory.Delete(parent, true);
        }
    }

    [TestMethod]
    public void EarlyStoppingEndsARunThatStopsImprovingAndTheBestWeightsComeBack()
    {
        var model = Gpt2();
        model.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 });
        var stalled = new Trainer(model, new TrainerOptions { MaxSteps = 50, BatchSize = 4, LearningRate = 0, EvalEverySteps = 1, EarlyStoppingPatience = 2 });
        var result = stalled.Train(KeyValueRows(8, 1), KeyValueRows(4, 2));
        Assert.IsTrue(result.StoppedEarly);
        Assert.AreEqual(3, result.Steps, "the first evaluation sets the best, two more without improvement stop the run");
        Assert.AreEqual(1, result.BestStep);

        // With a rate that is far too high the loss gets worse; the best (first) weights return at the end.
        var wild = Gpt2();
        var prompt = (PromptTuningAdapter)wild.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 });
        var evaluation = KeyValueRows(4, 2);
        var trainer = new Trainer(wild,
            new TrainerOptions { MaxSteps = 6, BatchSize = 4, LearningRate = 0.05f, EvalEverySteps = 1, LoadBestAtEnd = true, MaxGradNorm = 0 });
        var run = trainer.Train(KeyValueRows(8, 1), evaluation);
        Assert.AreEqual(run.BestEvaluation!.Loss, trainer.Evaluate(evaluation).Loss, 1e-6, "the weights of the best evaluation are back");
    }

    /// <summary>
    /// Diverged weights evaluate to a NaN loss, which becomes the run's first best loss; the
    /// checkpoint then wrote it as a JSON number and threw (found by TrainingCheckpointProperties).
    /// </summary>
    [TestMethod]
    public void ACheckpointAfterANaNEvaluationLossIsWrittenAndResumes()
    {
        var model = Gpt2();
        var prompt = (PromptTuningAdapter)model.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 });
        prompt.Parameters.First().Span.Fill(float.NaN);
        string folder = Path.Combine(Path.GetTempPath(), $"peft-nan-checkpoint-{Guid.NewGuid():N}");
        var options = new TrainerOptions { MaxSteps = 1, BatchSize = 4, LearningRate = 0, MaxGradNorm = 0, EvalEverySteps = 1, CheckpointFolder = folder };
        try
        {
            var run = new Trainer(model, options).Train(KeyValueRows(4, 1), KeyValueRows(4, 2));
            Assert.IsTrue(double.IsNaN(run.BestEvaluation!.Loss), "precondition: the evaluation loss is NaN");
            StringAssert.Contains(File.ReadAllText(Path.Combine(folder, "trainer_state.json")), "\"best_loss\": \"NaN\"");
            new Trainer(model, options).ResumeFrom(folder);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void Seq2SeqPrefixTuningTrains()
    {
        var model = new PeftModel(ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base")));
        model.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 4 }, seed: 1);
        var rows = KeyValueRows(24, 3).Select(r => new TrainingExample(r.InputIds.Take(r.InputIds.Count - 1).ToArray(), [r.InputIds[^1], 1])).ToList();
        var trainer = new Trainer(model, new TrainerOptions { Epochs = 20, BatchSize = 8, LearningRate = 0.05f });
        var before = trainer.Evaluate(rows);
        trainer.Train(rows);
        var after = trainer.Evaluate(rows);
        Assert.IsTrue(after.Loss < before.Loss * 0.7, $"loss {before.Loss:F3} -> {after.Loss:F3}");
    }

    [TestMethod]
    public void BadDataAndSettingsFailWithMessagesThatNameTheProblem()
    {
        var model = Gpt2();
        Assert.ThrowsExactly<InvalidOperationException>(() => new Trainer(model).Train(KeyValueRows(2, 1)), "no adapter yet");
        model.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 });
        var trainer = new Trainer(model, new TrainerOptions { BatchSize = 2 });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => trainer.Train([])).Message, "empty");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            trainer.Train([new TrainingExample([1, 2]), new TrainingExample([1, 500])])).Message, "row 1: input id 500");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            trainer.Train([new TrainingExample([1, 2, 3], [1, 2])])).Message, "2 labels for 3 input ids");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => trainer.Train([new TrainingExample([])])).Message, "no input ids");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new Trainer(model, new TrainerOptions { BatchSize = 0 })).Message, "BatchSize");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            new Trainer(model, new TrainerOptions { CheckpointEverySteps = 5 })).Message, "CheckpointFolder");
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
