using CsCheck;
using Peft.Tuners.PeftModels;
using Peft.Tuners.Training;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// Checkpoint → resume is invisible: a run interrupted after a random step (its checkpoint written
/// on cancellation by Trainer.SaveCheckpoint) and resumed with ResumeFrom on a fresh model ends
/// with exactly the trainable weights of the uninterrupted run, for a random base, PEFT method,
/// settings (LoRA dropout included), data and trainer options.
/// </summary>
[TestClass]
public sealed class TrainerResumeProperties
{
    private const int Iterations = 150;

    [TestMethod]
    public void AResumedRunEndsWithTheUninterruptedWeights()
    {
        Gen.Select(TinyModelSpec.Generate, RandomAdapterSpec.Generate, RandomTrainingRun.Generate).Sample((spec, adapterSpec, run) =>
        {
            PeftModel Fresh()
            {
                var model = new PeftModel(spec.Build());
                adapterSpec.AddTo(model, spec, loraDropout: run.LoraDropout);
                return model;
            }
            var options = run.Options();
            var full = Fresh();
            var data = run.Examples(spec.Vocab, full.BaseModel.Config.IsEncoderDecoder, full.NeedsTaskIds ? adapterSpec.Tasks : null);
            new Trainer(full, options).Train(data);

            var folder = Directory.CreateTempSubdirectory("peft-resume-property-");
            try
            {
                string checkpoint = Path.Combine(folder.FullName, "checkpoint");
                using var cancel = new CancellationTokenSource();
                var progress = new CallbackProgress(p =>
                {
                    if (p.Step == run.InterruptAt) cancel.Cancel();
                });
                Assert.ThrowsExactly<OperationCanceledException>(() =>
                    new Trainer(Fresh(), options with { CheckpointFolder = checkpoint }).Train(data, progress: progress, cancellationToken: cancel.Token));

                var resumed = Fresh();
                var trainer = new Trainer(resumed, options);
                trainer.ResumeFrom(checkpoint);
                trainer.Train(data);
                var expected = full.TrainableParameters;
                var actual = resumed.TrainableParameters;
                Assert.AreEqual(expected.Count, actual.Count, "trainable tensors");
                for (int i = 0; i < expected.Count; i++)
                    SameBits.Floats(expected[i].Span, actual[i].Span, $"trainable tensor {i} ({expected[i].Name}) after resuming at step {run.InterruptAt}");
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }, iter: Iterations);
    }

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool, too late to cancel at that step).</summary>
    private sealed class CallbackProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
