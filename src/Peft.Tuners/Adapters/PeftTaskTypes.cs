using System.Text.Json.Nodes;
using Peft.Transformers.Models;

namespace Peft.Tuners.Adapters;

/// <summary>HF PEFT's <c>task_type</c> strings for <see cref="ModelTask"/>, used only where files are read and written.</summary>
public static class PeftTaskTypes
{
    private static readonly (ModelTask Task, string Name, string Description)[] Names =
    [
        (ModelTask.CausalLM, "CAUSAL_LM", "a decoder-only language model"),
        (ModelTask.Seq2SeqLM, "SEQ_2_SEQ_LM", "an encoder-decoder language model"),
        (ModelTask.SequenceClassification, "SEQ_CLS", "a sequence classifier"),
    ];

    /// <summary>HF PEFT's name of <paramref name="task"/> (e.g. CAUSAL_LM).</summary>
    public static string ToHf(ModelTask task) => Names.First(n => n.Task == task).Name;

    /// <summary>"SEQ_2_SEQ_LM (an encoder-decoder language model)": the name with what it means, for messages.</summary>
    public static string Describe(ModelTask task)
    {
        var entry = Names.First(n => n.Task == task);
        return $"{entry.Name} ({entry.Description})";
    }

    /// <summary>The JSON value of an optional task type (null stays null, as HF PEFT writes an unset one).</summary>
    public static JsonNode? ToJson(ModelTask? task) => task is ModelTask t ? JsonValue.Create(ToHf(t)) : null;

    /// <summary>Reads HF PEFT's name; null for null.</summary>
    /// <exception cref="AdapterConfigException">A task type this version does not run (e.g. TOKEN_CLS); the message lists the supported ones.</exception>
    public static ModelTask? Parse(string? name)
    {
        if (name is null) return null;
        foreach (var n in Names)
            if (n.Name == name) return n.Task;
        throw new AdapterConfigException($"task_type '{name}' is not supported; supported: {string.Join(", ", Names.Select(n => n.Name))}.");
    }

    /// <summary>Fails when <paramref name="config"/> names a task type other than <paramref name="model"/>'s.</summary>
    /// <param name="config">The adapter's settings.</param>
    /// <param name="model">The base model.</param>
    /// <param name="where">Where the config came from (a file path), for the message; null for a config built in code.</param>
    /// <exception cref="AdapterConfigException">The two disagree; the message names both and the value to use.</exception>
    public static void CheckMatches(IPeftConfig config, ILanguageModel model, string? where = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        if (config.TaskType is not ModelTask task || task == model.TaskType) return;
        throw new AdapterConfigException($"{(where is null ? "" : where + ": ")}task_type is {Describe(task)} " +
            $"but the base model is {Describe(model.TaskType)}; " +
            $"set task_type to {ToHf(model.TaskType)} (or leave it unset), or load the adapter on a base of its kind.");
    }
}
