using System.CommandLine;
using Peft.Tensors.Quantization;

namespace Peft.Cli;

/// <summary>Options several commands share, made fresh for each command (an option belongs to one command).</summary>
internal static class CliOptions
{
    public static Option<string> Model() => new("--model") { Description = "Hugging Face model folder (config.json, model.safetensors, tokenizer.json) (required)", HelpName = "DIR" };

    public static Option<string[]> Adapters() => new("--adapter")
    {
        Description = "HF PEFT adapter folder (adapter_config.json + adapter_model.safetensors); repeat to stack",
        HelpName = "DIR",
    };

    public static Option<string> Quantize() => new Option<string>("--quantize")
    {
        Description = "quantize the base's linear layers on load (int8: the LM head's product too, as llama.cpp and ONNX Runtime do; "
            + "bf16|f16: keep them 16-bit, a 16-bit checkpoint's bits as they are, its LM head's product too)",
        HelpName = "int8|nf4|bf16|f16",
    }.AcceptOnlyFromAmong("int8", "nf4", "bf16", "f16");

    public static QuantizationFormat Format(string? text) => text switch
    {
        "int8" => QuantizationFormat.Int8,
        "nf4" => QuantizationFormat.Nf4,
        "bf16" => QuantizationFormat.BFloat16,
        "f16" => QuantizationFormat.Float16,
        _ => QuantizationFormat.None,
    };

    /// <summary>An integer option that must be at least <paramref name="minimum"/>.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int minimum = 1)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "N" };
        option.Validators.Add(r =>
        {
            if (r.Implicit) return;
            if (r.GetValueOrDefault<int>() < minimum) r.AddError($"{name} must be at least {minimum}; got {r.GetValueOrDefault<int>()}.");
        });
        return option;
    }

    /// <summary>An integer option with no default (null when not given) that must be at least <paramref name="minimum"/>.</summary>
    public static Option<int?> OptionalInt(string name, string description, int minimum = 1)
    {
        var option = new Option<int?>(name) { Description = description, HelpName = "N" };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int v && v < minimum) r.AddError($"{name} must be at least {minimum}; got {v}.");
        });
        return option;
    }

    /// <summary>A float option that must be finite and at least <paramref name="minimum"/>.</summary>
    public static Option<float> Float(string name, string description, float defaultValue, float minimum = 0)
    {
        var option = new Option<float>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "X" };
        option.Validators.Add(r =>
        {
            if (r.Implicit) return;
            float v = r.GetValueOrDefault<float>();
            if (!float.IsFinite(v) || v < minimum) r.AddError($"{name} must be a number >= {minimum}; got {v}.");
        });
        return option;
    }
}
