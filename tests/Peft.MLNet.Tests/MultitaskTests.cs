using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Classification;
using Peft.MLNet.Generation;
using Peft.MLNet.Runtime;
using Peft.Transformers.Generation;
using Peft.Tuners.MultitaskPromptTuning;

namespace Peft.MLNet.Tests;

/// <summary>
/// Multitask prompt tuning through the plug-in: each row's task comes from an Int32 column in
/// training and at prediction, is saved with the chain, and a missing task column is named.
/// </summary>
[TestClass]
public sealed class MultitaskTests
{
    public sealed class TaskReview
    {
        public string Text { get; set; } = "";

        public string Sentiment { get; set; } = "";

        public int Task { get; set; }
    }

    public sealed class TaskQuestion
    {
        public string Prompt { get; set; } = "";

        public string Completion { get; set; } = "";

        public int Task { get; set; }
    }

    public sealed class TaskAnswer
    {
        public string GeneratedText { get; set; } = "";
    }

    private static readonly MultitaskPromptTuningConfig TwoTasks = new() { NumVirtualTokens = 4, NumTasks = 2, NumRanks = 1 };

    [TestMethod]
    public void AClassifierReadsEachRowsTaskAndKeepsItThroughSaveAndLoad()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var rows = Reviews.Rows.Select((r, i) => new TaskReview { Text = r.Text, Sentiment = r.Sentiment, Task = i % 2 }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment")
            .Append(ml.MulticlassClassification.Trainers.PeftTextClassification(new PeftTextClassificationTrainer.Options
            {
                BaseModelFolder = tiny.Folder, Sentence1ColumnName = "Text", TaskIdColumnName = "Task", Method = TwoTasks, Epochs = 3,
                LearningRate = 1e-2f,
            }))
            .Fit(data);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        // The same texts under the other task score differently: the task reaches the adapter.
        var swapped = ml.Data.LoadFromEnumerable(rows.Select(r => new TaskReview { Text = r.Text, Sentiment = r.Sentiment, Task = 1 - r.Task }));
        var swappedScores = model.Transform(swapped).GetColumn<float[]>("Score").ToArray();
        Assert.IsTrue(scores.Zip(swappedScores).Any(p => !p.First.SequenceEqual(p.Second)), "each task has its own prompt");

        string zip = Path.Combine(tiny.Folder, "multitask.zip");
        ml.Model.Save(model, data.Schema, zip);
        RuntimeCache.Clear();
        var loaded = new MLContext().Model.Load(zip, out _);
        var again = loaded.Transform(data).GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < scores.Length; i++) CollectionAssert.AreEqual(scores[i], again[i], $"row {i}");
    }

    [TestMethod]
    public void AGeneratorBatchesRowsOfDifferentTasksAndEachGetsWhatItGetsAlone()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var rows = Colours.Rows.Select((r, i) => new TaskQuestion { Prompt = r.Prompt, Completion = r.Completion, Task = i % 2 }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Text.PeftTextGeneration(new PeftTextGenerationTrainer.Options
        {
            BaseModelFolder = tiny.Folder, PromptColumnName = "Prompt", CompletionColumnName = "Completion", TaskIdColumnName = "Task",
            Method = TwoTasks, Epochs = 20, LearningRate = 1e-2f, TransformBatchSize = 4, Generation = new GenerationOptions { MaxNewTokens = 6 },
        }).Fit(data);
        var batched = model.Transform(data).GetColumn<string>("GeneratedText").ToArray();
        var alone = rows.Select(r => model.Generate(r.Prompt, r.Task)).ToArray();
        CollectionAssert.AreEqual(alone, batched, "a batch of mixed tasks: each row with its own task's prompt");
        var engine = ml.Model.CreatePredictionEngine<TaskQuestion, TaskAnswer>(model);
        CollectionAssert.AreEqual(alone, rows.Select(r => engine.Predict(r).GeneratedText).ToArray());

        string zip = Path.Combine(tiny.Folder, "multitask-generator.zip");
        ml.Model.Save(model, data.Schema, zip);
        RuntimeCache.Clear();
        CollectionAssert.AreEqual(alone, new MLContext().Model.Load(zip, out _).Transform(data).GetColumn<string>("GeneratedText").ToArray());
    }

    [TestMethod]
    public void AMissingOrMistypedTaskColumnIsNamed()
    {
        using var tiny = TinyBase.Create();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Colours.Rows);
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Text.PeftTextGeneration(tiny.Folder, method: TwoTasks, epochs: 1).Fit(data));
        StringAssert.Contains(missing.Message, "TaskIdColumnName");
        var mistyped = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.PeftTextGeneration(new PeftTextGenerationTrainer.Options
        {
            BaseModelFolder = tiny.Folder, PromptColumnName = "Prompt", CompletionColumnName = "Completion", TaskIdColumnName = "Completion",
            Method = TwoTasks, Epochs = 1,
        }).Fit(data));
        StringAssert.Contains(mistyped.Message, "expected Int32, got String");
    }
}
