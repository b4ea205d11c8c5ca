using Peft.Transformers.Models;

namespace Peft.Tuners.Adapters;

/// <summary>
/// An adapter that trains some of the base model's own parameters besides its own tensors (LoRA's
/// <c>bias</c> = all / lora_only); the <see cref="PeftModels.PeftModel"/> keeps a copy of them per
/// adapter, saved with it, so turning the adapter off gives the base back.
/// </summary>
public interface ITrainsBaseParameters : IPeftAdapter
{
    /// <summary>The base parameters this adapter trains on <paramref name="model"/> (empty when none).</summary>
    IEnumerable<ModelParameter> TrainedBaseParameters(ILanguageModel model);
}
