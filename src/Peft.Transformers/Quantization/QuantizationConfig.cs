using System.Text.Json.Nodes;
using Peft.Tensors.Quantization;
using Peft.Transformers.Configuration;

namespace Peft.Transformers.Quantization;

/// <summary>
/// The <c>quantization_config</c> object of a quantized model's config.json: which format its
/// quantized weights use and how they are laid out, so a loader can read them back.
/// </summary>
public sealed record QuantizationConfig
{
    /// <summary>The value of <c>quant_method</c> written here.</summary>
    public const string Method = "peft_mlnet";

    /// <summary>The format of the quantized weights.</summary>
    public required QuantizationFormat Format { get; init; }

    /// <summary>Values per absmax block (NF4: 64; int8 uses one scale per output row and writes 0).</summary>
    public int BlockSize => Format == QuantizationFormat.Nf4 ? Nf4Matrix.BlockSize : 0;

    /// <summary>NF4 block scales stored as int8 (double quantization).</summary>
    public bool DoubleQuantization { get; init; }

    /// <summary>
    /// The model computed logits with a quantized copy of its LM head when saved; loading gives it one again unless
    /// LoadOptions.QuantizeLmHead says otherwise (the copy itself is not stored: it is made from the float head).
    /// </summary>
    public bool QuantizedLmHead { get; init; }

    /// <summary>The JSON object written to config.json.</summary>
    public JsonObject ToJson() => new()
    {
        ["quantized_lm_head"] = QuantizedLmHead,
        ["quant_method"] = Method,
        ["format"] = Format == QuantizationFormat.Int8 ? "int8" : "nf4",
        ["block_size"] = BlockSize,
        ["double_quantization"] = DoubleQuantization,
        ["scale_group_size"] = Format == QuantizationFormat.Nf4 && DoubleQuantization ? Nf4Matrix.ScaleGroupSize : 0,
        // Quantized weights are stored [out, in] (GPT-2's Conv1D weights too), NF4 codes with value j of
        // a 64-block in the low nibble of byte j and value j+32 in its high nibble.
        ["weight_layout"] = "out_in",
        ["nf4_packing"] = Format == QuantizationFormat.Nf4 ? "block_halves" : null,
    };

    /// <summary>Reads the object, checking every field this loader depends on.</summary>
    /// <exception cref="ModelConfigException">A field is missing or names something this loader cannot read.</exception>
    public static QuantizationConfig Parse(JsonNode? node, string source)
    {
        if (node is not JsonObject obj)
            throw new ModelConfigException(source, "quantization_config", $"must be an object; got {node?.ToJsonString() ?? "null"}.");
        string method = Text(obj, "quant_method", source);
        if (method != Method)
            throw new ModelConfigException(source, "quantization_config.quant_method",
                $"is '{method}'; only '{Method}' (written by Peft.MLNet) can be loaded.");
        var format = Text(obj, "format", source) switch
        {
            "int8" => QuantizationFormat.Int8,
            "nf4" => QuantizationFormat.Nf4,
            var f => throw new ModelConfigException(source, "quantization_config.format", $"is '{f}'; expected 'int8' or 'nf4'."),
        };
        bool dq = obj["double_quantization"] is JsonValue v && v.TryGetValue(out bool b) && b;
        // Absent in folders saved before the head copy became int8's default: those loaded with a float head.
        bool head = obj["quantized_lm_head"] is JsonValue hv && hv.TryGetValue(out bool h) && h;
        var config = new QuantizationConfig { Format = format, DoubleQuantization = dq, QuantizedLmHead = head };
        int blockSize = obj["block_size"] is JsonValue bv && bv.TryGetValue(out int bs) ? bs : -1;
        if (blockSize != config.BlockSize)
            throw new ModelConfigException(source, "quantization_config.block_size", $"is {blockSize}; {format} weights here use {config.BlockSize}.");
        string layout = Text(obj, "weight_layout", source);
        if (layout != "out_in")
            throw new ModelConfigException(source, "quantization_config.weight_layout", $"is '{layout}'; expected 'out_in'.");
        if (format == QuantizationFormat.Nf4 && Text(obj, "nf4_packing", source) != "block_halves")
            throw new ModelConfigException(source, "quantization_config.nf4_packing",
                "must be 'block_halves' (value j of a block in the low nibble of byte j, value j+32 in the high nibble).");
        return config;
    }

    private static string Text(JsonObject obj, string field, string source) =>
        obj[field] is JsonValue v && v.TryGetValue(out string? s)
            ? s
            : throw new ModelConfigException(source, "quantization_config." + field, $"must be a string; got {obj[field]?.ToJsonString() ?? "nothing"}.");
}
