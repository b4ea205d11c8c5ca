using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Transformers.Loading;

namespace Peft.Cli.Commands;

/// <summary>
/// The class names of a sequence-classification adapter, written beside HF PEFT's files as
/// <c>labels.json</c> (<c>{"labels": [...]}</c>, index = class id) so eval and generate map ids back.
/// </summary>
internal static class LabelList
{
    public const string FileName = "labels.json";

    public static void Write(string folder, IReadOnlyList<string> labels) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FileName),
            new JsonObject { ["labels"] = new JsonArray(labels.Select(l => (JsonNode)JsonValue.Create(l)).ToArray()) }.ToJsonString());

    /// <summary>The labels of an adapter folder, or null when it has none.</summary>
    public static IReadOnlyList<string>? TryRead(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetString()
                ?? throw new UsageException($"{path}: a label is not a string.")).ToArray();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new UsageException($"{path}: expected {{\"labels\": [\"...\", ...]}} ({ex.Message}).");
        }
    }
}
