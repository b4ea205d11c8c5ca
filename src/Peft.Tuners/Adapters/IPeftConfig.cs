using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;

namespace Peft.Tuners.Adapters;

/// <summary>The settings of one PEFT method, serialized as HF PEFT's adapter_config.json.</summary>
public interface IPeftConfig
{
    /// <summary>HF PEFT's <c>peft_type</c> (LORA, IA3, PROMPT_TUNING, PREFIX_TUNING, P_TUNING, MULTITASK_PROMPT_TUNING).</summary>
    string PeftType { get; }

    /// <summary>
    /// HF PEFT's <c>task_type</c> (CAUSAL_LM, SEQ_2_SEQ_LM, SEQ_CLS), or null: leave it unset and
    /// the base model decides (a <see cref="PeftModels.PeftModel"/> writes its base's kind on save).
    /// A value that contradicts the base model fails when the adapter is created or loaded.
    /// </summary>
    ModelTask? TaskType { get; }

    /// <summary>The adapter_config.json object for a base model with <paramref name="model"/>'s config (sizes resolved).</summary>
    JsonObject ToJson(ModelConfig model);
}
