using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.Tuners.Adapters;

/// <summary>Every PEFT method this version reads, writes, creates and trains: one line per method.</summary>
public static class PeftMethods
{
    /// <summary>The methods, in HF PEFT's usual order of mention.</summary>
    public static IReadOnlyList<PeftMethod> All { get; } =
    [
        LoraAdapter.Method,
        Ia3Adapter.Method,
        PromptTuningAdapter.Method,
        PTuningAdapter.Method,
        MultitaskPromptTuningAdapter.Method,
        PrefixTuningAdapter.Method,
    ];

    /// <summary>The method of <paramref name="config"/>, or null when none is registered for its type.</summary>
    public static PeftMethod? ForConfig(IPeftConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return All.FirstOrDefault(m => m.ConfigType == config.GetType());
    }

    /// <summary>The method HF PEFT calls <paramref name="peftType"/>, or null.</summary>
    public static PeftMethod? ForPeftType(string peftType) => All.FirstOrDefault(m => m.PeftType == peftType);
}
