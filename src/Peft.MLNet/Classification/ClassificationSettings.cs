using System.Text.Json.Nodes;

namespace Peft.MLNet.Classification;

/// <summary>What a fitted classifier needs besides its weights: the class names (in key order), the token limit and whether rows are sentence pairs.</summary>
/// <param name="ClassNames">Class names in the label key's order (key k is class k − 1).</param>
/// <param name="MaxLength">Tokens kept per row (the rest is cut), or null for all.</param>
/// <param name="Pair">Whether rows have a second sentence (joined to the first with a newline before tokenizing).</param>
/// <param name="Binary">Whether the label is Boolean (class 1 is true) and the output ML.NET's binary columns.</param>
internal sealed record ClassificationSettings(IReadOnlyList<string> ClassNames, int? MaxLength, bool Pair, bool Binary = false)
{
    /// <summary>The text a row is tokenized as.</summary>
    public string Text(ReadOnlySpan<char> sentence1, ReadOnlySpan<char> sentence2) => Pair ? string.Concat(sentence1, "\n", sentence2) : sentence1.ToString();

    /// <summary>The settings as JSON (inside the saved state).</summary>
    public JsonObject ToJson() => new()
    {
        ["class_names"] = new JsonArray(ClassNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
        ["max_length"] = MaxLength,
        ["pair"] = Pair,
        ["binary"] = Binary,
    };

    /// <summary>Reads <see cref="ToJson"/>'s object.</summary>
    public static ClassificationSettings FromJson(JsonObject json) => new(
        json["class_names"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray(),
        json["max_length"]?.GetValue<int>(),
        json["pair"]!.GetValue<bool>(),
        json["binary"]?.GetValue<bool>() ?? false);
}
