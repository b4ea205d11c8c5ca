using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Tuners.PeftModels;

namespace Peft.Tuners.Tests;

/// <summary>Small runs the adapter tests share: logits of a batch, and a few AdamW steps on its LM loss.</summary>
internal static class PeftModelRuns
{
    /// <summary>Two rows of four token ids inside every fixture vocabulary.</summary>
    public static IntTensor SampleIds { get; } = IntTensor.FromArray([3, 9, 13, 2, 44, 7, 8, 21], 2, 4);

    public static float[] Logits(PeftModel model) => Logits(model, SampleIds);

    public static void Train(PeftModel model, int steps) => Train(model, SampleIds, steps);

    public static float[] Logits(PeftModel model, IntTensor ids)
    {
        using var scope = new TensorScope();
        return model.Forward(ids).Logits.ToArray();
    }

    public static void Train(PeftModel model, IntTensor ids, int steps, float learningRate = 0.05f)
    {
        var optimizer = new AdamW(model.TrainableParameters, learningRate: learningRate, weightDecay: 0f);
        for (int i = 0; i < steps; i++)
        {
            using var scope = new TensorScope();
            optimizer.ZeroGrad();
            model.Loss(ids, ids).Loss.Backward();
            optimizer.Step();
        }
    }
}
