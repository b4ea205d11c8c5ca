using System.Text.Json.Nodes;
using Peft.Transformers.Generation;

namespace Peft.MLNet.Generation;

/// <summary>What a fitted generator needs besides its weights: the prompt token limit and how to generate.</summary>
/// <param name="MaxLength">Prompt tokens kept (the rest is cut), or null for all.</param>
/// <param name="Generation">Length, stopping and sampling settings (its TextDecoder is the tokenizer's and is not saved).</param>
internal sealed record TextGenerationSettings(int? MaxLength, GenerationOptions Generation)
{
    /// <summary>The settings as JSON (inside the saved state).</summary>
    public JsonObject ToJson() => new()
    {
        ["max_length"] = MaxLength,
        ["max_new_tokens"] = Generation.MaxNewTokens,
        ["do_sample"] = Generation.DoSample,
        ["temperature"] = Generation.Temperature,
        ["top_k"] = Generation.TopK,
        ["top_p"] = Generation.TopP,
        ["repetition_penalty"] = Generation.RepetitionPenalty,
        ["seed"] = Generation.Seed,
        ["use_cache"] = Generation.UseCache,
        ["use_static_cache"] = Generation.UseStaticCache,
        ["eos_token_ids"] = Generation.EosTokenIds is { } eos ? new JsonArray(eos.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray()) : null,
        ["pad_token_id"] = Generation.PadTokenId,
        ["stop_strings"] = Generation.StopStrings is { } stops ? new JsonArray(stops.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()) : null,
    };

    /// <summary>Reads <see cref="ToJson"/>'s object.</summary>
    public static TextGenerationSettings FromJson(JsonObject json) => new(
        json["max_length"]?.GetValue<int>(),
        new GenerationOptions
        {
            MaxNewTokens = json["max_new_tokens"]!.GetValue<int>(),
            DoSample = json["do_sample"]!.GetValue<bool>(),
            Temperature = json["temperature"]!.GetValue<float>(),
            TopK = json["top_k"]!.GetValue<int>(),
            TopP = json["top_p"]!.GetValue<float>(),
            RepetitionPenalty = json["repetition_penalty"]!.GetValue<float>(),
            Seed = json["seed"]!.GetValue<ulong>(),
            UseCache = json["use_cache"]!.GetValue<bool>(),
            UseStaticCache = json["use_static_cache"]!.GetValue<bool>(),
            EosTokenIds = json["eos_token_ids"]?.AsArray().Select(n => n!.GetValue<int>()).ToArray(),
            PadTokenId = json["pad_token_id"]?.GetValue<int>(),
            StopStrings = json["stop_strings"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray(),
        });
}
