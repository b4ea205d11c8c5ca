using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.MLNet.Runtime;
using Peft.Tensors.Quantization;

namespace Peft.MLNet.Persistence;

/// <summary>
/// Everything a fitted PEFT transformer needs to run again, as one string that ML.NET's own value
/// mapping carries through <c>Model.Save</c>: a first line naming the format and the state's id,
/// then JSON with the task settings, the base model reference and the adapter folder's two files
/// (adapter_config.json as JSON, adapter_model.safetensors in base64, byte for byte), and the
/// columns the transformer reads and writes (so a loaded chain can be rebuilt into the transformer),
/// and, when training used a tokenizer supplied in code, that tokenizer's fingerprint (null: the base folder's tokenizer.json).
/// </summary>
internal sealed record ModelState(
    string Id,
    string Task,
    BaseModelReference BaseModel,
    QuantizationFormat Quantization,
    JsonObject Settings,
    string AdapterConfigJson,
    byte[] AdapterWeights,
    JsonObject? Columns = null,
    string? SuppliedTokenizer = null)
{
    /// <summary>The format this version writes and reads.</summary>
    public const string Format = "peft-mlnet/1";

    /// <summary>The state as one string.</summary>
    public string Serialize()
    {
        var json = new JsonObject
        {
            ["task"] = Task,
            ["base_model"] = new JsonObject { ["folder"] = BaseModel.Folder, ["sha256"] = BaseModel.Sha256 },
            ["quantization"] = Quantization.ToString(),
            ["settings"] = Settings.DeepClone(),
            ["adapter_config"] = JsonNode.Parse(AdapterConfigJson),
            ["adapter_model_safetensors"] = Convert.ToBase64String(AdapterWeights),
        };
        if (Columns is not null) json["columns"] = Columns.DeepClone();
        if (SuppliedTokenizer is not null) json["supplied_tokenizer_sha256"] = SuppliedTokenizer;
        return $"{Format} {Id}\n{json.ToJsonString()}";
    }

    /// <summary>The id on the first line, read without parsing the rest (the runtime cache's key).</summary>
    /// <exception cref="InvalidDataException">Not a state of this format (another version wrote it, or the column holds something else).</exception>
    public static string IdOf(ReadOnlySpan<char> state)
    {
        int newline = state.IndexOf('\n');
        var header = newline < 0 ? state : state[..newline];
        if (!header.StartsWith(Format + " ", StringComparison.Ordinal))
            throw new InvalidDataException(
                $"The saved PEFT state starts with '{Head(header)}', not '{Format} <id>': it was written by another version of Peft.MLNet. " +
                "Load it with the version that saved it, or fit the pipeline again.");
        return header[(Format.Length + 1)..].ToString();
    }

    /// <summary>Reads a state written by <see cref="Serialize"/>.</summary>
    /// <exception cref="InvalidDataException">Another format, or a damaged state; the message says which part.</exception>
    public static ModelState Parse(ReadOnlySpan<char> state)
    {
        string id = IdOf(state);
        var body = state[(state.IndexOf('\n') + 1)..];
        try
        {
            var json = Peft.Shared.StrictJson.Parse(body.ToString())?.AsObject()
                ?? throw new InvalidDataException("The saved PEFT state has no settings.");
            var baseModel = json["base_model"]!.AsObject();
            return new ModelState(
                id,
                json["task"]!.GetValue<string>(),
                new BaseModelReference(baseModel["folder"]!.GetValue<string>(), baseModel["sha256"]!.GetValue<string>()),
                Enum.Parse<QuantizationFormat>(json["quantization"]!.GetValue<string>()),
                json["settings"]!.AsObject(),
                json["adapter_config"]!.ToJsonString(),
                Convert.FromBase64String(json["adapter_model_safetensors"]!.GetValue<string>()),
                json["columns"]?.AsObject(),
                json["supplied_tokenizer_sha256"]?.GetValue<string>());
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NullReferenceException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"The saved PEFT state '{id}' is damaged ({ex.Message}); save the model again.", ex);
        }
    }

    /// <summary>
    /// A part of the state read by <paramref name="read"/> (a settings or columns reader, which may also validate); a
    /// part that is missing, mistyped or out of range is an <see cref="InvalidDataException"/> naming it.
    /// </summary>
    /// <exception cref="InvalidDataException">The part is damaged.</exception>
    public T ReadPart<T>(string part, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NullReferenceException or InvalidOperationException or ArgumentException
            or KeyNotFoundException or OverflowException or InvalidCastException)
        {
            throw new InvalidDataException($"The saved PEFT state '{Id}' is damaged ({part}: {ex.Message}); save the model again.", ex);
        }
    }

    private static string Head(ReadOnlySpan<char> header) => header.Length <= 40 ? header.ToString() : header[..40].ToString() + "…";
}
