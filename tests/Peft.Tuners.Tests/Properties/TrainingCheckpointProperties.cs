using CsCheck;
using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Tuners.Training;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// Save → load is the identity for training checkpoints (what Trainer.SaveCheckpoint writes and
/// ResumeFrom reads): the state, the optimizer's step count, every adapter tensor and both AdamW
/// moments come back bit for bit, whatever the keys, shapes and values.
/// </summary>
[TestClass]
public sealed class TrainingCheckpointProperties
{
    private const int Iterations = 300;

    [TestMethod]
    public void SavedThenLoadedCheckpointIsTheSame()
    {
        RandomCheckpoint.Generate.Sample(c =>
        {
            var named = c.Keys.Select((key, i) => (key, Tensor.Parameter(c.Values[i][0], new Shape(c.Shapes[i]), key))).ToList();
            var optimizer = new AdamW(named.Select(p => p.Item2));
            for (int i = 0; i < named.Count; i++)
            {
                c.Values[i][1].CopyTo(optimizer.FirstMoment(i));
                c.Values[i][2].CopyTo(optimizer.SecondMoment(i));
            }
            optimizer.RestoreStepCount(c.OptimizerSteps);
            var folder = Directory.CreateTempSubdirectory("peft-checkpoint-property-");
            try
            {
                string checkpoint = Path.Combine(folder.FullName, "checkpoint");
                TrainingCheckpoint.Save(checkpoint, c.State, named, optimizer);
                var fresh = c.Keys.Select((key, i) => (key, Tensor.Zeros(new Shape(c.Shapes[i])))).ToList();
                var (state, steps, firstMoments, secondMoments) = TrainingCheckpoint.Load(checkpoint, fresh);

                Assert.AreEqual(c.State with { BestLoss = 0, RandomStates = [] }, state with { BestLoss = 0, RandomStates = [] }, "state");
                SameBits.Double(c.State.BestLoss, state.BestLoss, "best loss");
                CollectionAssert.AreEqual(c.State.RandomStates.ToArray(), state.RandomStates.ToArray(), "dropout generator states");
                Assert.AreEqual(c.OptimizerSteps, steps, "optimizer steps");
                for (int i = 0; i < named.Count; i++)
                {
                    SameBits.Floats(c.Values[i][0], fresh[i].Item2.Span, $"tensor {c.Keys[i]}");
                    SameBits.Floats(c.Values[i][1], firstMoments[i], $"first moment of {c.Keys[i]}");
                    SameBits.Floats(c.Values[i][2], secondMoments[i], $"second moment of {c.Keys[i]}");
                }
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }, iter: Iterations, print: c => c.ToString());
    }
}
