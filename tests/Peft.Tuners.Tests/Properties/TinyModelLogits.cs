using Peft.Tensors;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;

namespace Peft.Tuners.Tests.Properties;

/// <summary>The logits of a random tiny model (causal or T5) for random prompts, without a tape: what the save/load laws compare.</summary>
internal static class TinyModelLogits
{
    public static float[] Of(ILanguageModel model, TinyModelSpec spec, RandomPrompts prompts)
    {
        var ids = prompts.Ids(spec.Vocab);
        var mask = prompts.Mask();
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            return model switch
            {
                CausalLanguageModel causal => causal.Forward(inputIds: ids, attentionMask: mask).Logits.ToArray(),
                T5Model t5 => t5.Forward(inputIds: ids, attentionMask: mask, labels: ids).Logits.ToArray(),
                _ => throw new ArgumentException($"Unknown model {model.GetType().Name}.", nameof(model)),
            };
        }
    }
}
