using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.MultitaskPromptTuning;

/// <summary>
/// Multitask prompt tuning settings with HF PEFT's field names (<c>MultitaskPromptTuningConfig</c>).
/// <c>prompt_tuning_init</c>: RANDOM, TEXT (through a tokenizer), or from a source multitask
/// adapter's weights file (<c>prompt_tuning_init_state_dict_path</c>): AVERAGE_SOURCE_TASKS (the
/// mean of its task factors), EXACT_SOURCE_TASK (task <c>prompt_tuning_init_task</c>'s factors),
/// ONLY_SOURCE_SHARED (only its shared prompt). Source task factors are given to every task here;
/// PEFT can only load them into a single-task adapter.
/// </summary>
public sealed record MultitaskPromptTuningConfig : IPeftConfig
{
    /// <inheritdoc/>
    public string PeftType => "MULTITASK_PROMPT_TUNING";

    /// <summary>Virtual tokens per row.</summary>
    public int NumVirtualTokens { get; init; } = 8;

    /// <summary>Number of tasks (each row picks one by id).</summary>
    public int NumTasks { get; init; } = 1;

    /// <summary>Rank of each task's modulation of the shared prompt.</summary>
    public int NumRanks { get; init; } = 1;

    /// <summary>RANDOM, TEXT, AVERAGE_SOURCE_TASKS, EXACT_SOURCE_TASK or ONLY_SOURCE_SHARED.</summary>
    public MultitaskPromptTuningInit PromptTuningInit { get; init; } = MultitaskPromptTuningInit.Random;

    /// <summary>The text for TEXT initialization.</summary>
    public string? PromptTuningInitText { get; init; }

    /// <summary>The source adapter's adapter_model.safetensors for the *_SOURCE_* initializations.</summary>
    public string? PromptTuningInitStateDictPath { get; init; }

    /// <summary>The source task for EXACT_SOURCE_TASK.</summary>
    public int PromptTuningInitTask { get; init; }

    /// <summary>Given token width to check (null = infer).</summary>
    public int? TokenDim { get; init; }

    /// <inheritdoc/>
    public ModelTask? TaskType { get; init; }

    /// <summary>Checks the values against <paramref name="model"/>; returns the token width.</summary>
    /// <exception cref="AdapterConfigException">A value is out of range or contradicts the model; the message names the field.</exception>
    public int Resolve(ModelConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (NumVirtualTokens <= 0) throw new AdapterConfigException($"Multitask prompt tuning config: 'num_virtual_tokens' must be positive; " +
            $"got {NumVirtualTokens}.");
        if (NumTasks <= 0) throw new AdapterConfigException($"Multitask prompt tuning config: 'num_tasks' must be positive; got {NumTasks}.");
        if (NumRanks <= 0) throw new AdapterConfigException($"Multitask prompt tuning config: 'num_ranks' must be positive; got {NumRanks}.");
        HfEnumNames.RequireDefined(PromptTuningInit, "prompt_tuning_init", "Multitask prompt tuning");
        if (TokenDim is int given && given != model.HiddenSize)
            throw new AdapterConfigException($"Multitask prompt tuning config: 'token_dim' is {given} but the model has {model.HiddenSize}; " +
                $"leave it out to infer it or set it to {model.HiddenSize}.");
        return model.HiddenSize;
    }

    private static readonly HashSet<string> KnownFields =
    [
        "num_virtual_tokens", "num_tasks", "num_ranks", "prompt_tuning_init", "prompt_tuning_init_text", "prompt_tuning_init_state_dict_path",
        "prompt_tuning_init_task", "token_dim", "num_layers", "num_attention_heads", "num_transformer_submodules", "tokenizer_name_or_path", "tokenizer_kwargs",
    ];

    /// <summary>Reads a MULTITASK_PROMPT_TUNING adapter_config.json object.</summary>
    /// <param name="root">The JSON object.</param>
    /// <param name="warn">Receives a message per unknown field (a newer PEFT's), which is otherwise ignored.</param>
    public static MultitaskPromptTuningConfig FromJson(JsonElement root, Action<string>? warn = null)
    {
        ConfigFields.WarnUnknown(root, KnownFields, warn);
        return new MultitaskPromptTuningConfig
        {
            NumVirtualTokens = ConfigFields.Int(root, "num_virtual_tokens")
                ?? throw new AdapterConfigException("Multitask prompt tuning config: 'num_virtual_tokens' is required."),
            NumTasks = ConfigFields.Int(root, "num_tasks") ?? throw new AdapterConfigException("Multitask prompt tuning config: 'num_tasks' is required."),
            NumRanks = ConfigFields.Int(root, "num_ranks") ?? 1,
            PromptTuningInit = HfEnumNames.Read(root, "prompt_tuning_init", MultitaskPromptTuningInit.Random, "Multitask prompt tuning"),
            PromptTuningInitText = ConfigFields.String(root, "prompt_tuning_init_text"),
            PromptTuningInitStateDictPath = ConfigFields.String(root, "prompt_tuning_init_state_dict_path"),
            PromptTuningInitTask = ConfigFields.Int(root, "prompt_tuning_init_task") ?? 0,
            TokenDim = ConfigFields.Int(root, "token_dim"),
            TaskType = ConfigFields.TaskType(root),
        };
    }

    /// <summary>The adapter_config.json object PEFT writes, with the resolved sizes.</summary>
    public JsonObject ToJson(ModelConfig model)
    {
        int dim = Resolve(model);
        return new JsonObject
        {
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = null,
            ["inference_mode"] = true,
            ["num_attention_heads"] = model.NumAttentionHeads,
            ["num_layers"] = model.NumLayers,
            ["num_ranks"] = NumRanks,
            ["num_tasks"] = NumTasks,
            ["num_transformer_submodules"] = 1,
            ["num_virtual_tokens"] = NumVirtualTokens,
            ["peft_type"] = PeftType,
            ["prompt_tuning_init"] = HfEnumNames.ToHf(PromptTuningInit),
            ["prompt_tuning_init_state_dict_path"] = PromptTuningInitStateDictPath,
            ["prompt_tuning_init_task"] = PromptTuningInitTask,
            ["prompt_tuning_init_text"] = PromptTuningInitText,
            ["revision"] = null,
            ["task_type"] = PeftTaskTypes.ToJson(TaskType),
            ["token_dim"] = dim,
            ["tokenizer_kwargs"] = null,
            ["tokenizer_name_or_path"] = null,
        };
    }
}
