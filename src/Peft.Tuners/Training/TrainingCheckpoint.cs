using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;

namespace Peft.Tuners.Training;

/// <summary>
/// A full training checkpoint, from which training resumes exactly: every trainable tensor (prompt
/// encoders included, which HF PEFT's adapter files leave out), AdamW's moments and step count, the
/// optimizer step reached, early-stopping state and the dropout generators' states. Files:
/// <c>trainer_state.json</c> and <c>trainer_tensors.safetensors</c>; the folder is replaced atomically and flushed to disk
/// (<see cref="AtomicFolder"/>), so a process killed at any moment leaves the previous checkpoint or the new one, whole.
/// </summary>
internal static class TrainingCheckpoint
{
    public const string StateFileName = "trainer_state.json";
    public const string TensorsFileName = "trainer_tensors.safetensors";

    public sealed record State(int Step, int TotalSteps, ulong Seed, double? BestLoss, int? BestStep, long BestTokens, int EvaluationsWithoutImprovement,
        IReadOnlyList<(uint, uint, uint, uint)> RandomStates);

    public static void Save(string folder, State state, IReadOnlyList<(string Key, Tensor Tensor)> parameters, AdamW optimizer)
    {
        AtomicFolder.Write(folder, temp =>
        {
            var entries = new List<SafeTensorWriteEntry>();
            for (int i = 0; i < parameters.Count; i++)
            {
                var (key, tensor) = parameters[i];
                entries.Add(Entry("param/" + key, tensor.Span, tensor.Shape));
                entries.Add(Entry("adam_m/" + key, optimizer.FirstMoment(i), tensor.Shape));
                entries.Add(Entry("adam_v/" + key, optimizer.SecondMoment(i), tensor.Shape));
            }
            SafeTensorsWriter.Write(Path.Combine(temp, TensorsFileName), entries, new Dictionary<string, string> { ["format"] = "peft.mlnet.trainer" });
            var json = new JsonObject
            {
                ["step"] = state.Step,
                ["total_steps"] = state.TotalSteps,
                ["seed"] = state.Seed,
                ["optimizer_steps"] = optimizer.StepCount,
                ["best_loss"] = state.BestLoss is double best ? LossNode(best) : null,
                ["best_step"] = state.BestStep,
                ["best_tokens"] = state.BestTokens,
                ["evaluations_without_improvement"] = state.EvaluationsWithoutImprovement,
                ["parameters"] = new JsonArray(parameters.Select(p => (JsonNode)JsonValue.Create(p.Key)!).ToArray()),
                ["random_states"] = new JsonArray(state.RandomStates.Select(r => (JsonNode)new JsonArray(r.Item1, r.Item2, r.Item3, r.Item4)).ToArray()),
            };
            File.WriteAllText(Path.Combine(temp, StateFileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        });
    }

    /// <summary>
    /// A loss as JSON: a number, or for NaN and the infinities (an evaluation of diverged weights) the
    /// string "NaN", "Infinity" or "-Infinity", since JSON numbers have none and writing one throws.
    /// </summary>
    private static JsonNode LossNode(double loss) =>
        double.IsFinite(loss) ? JsonValue.Create(loss) : JsonValue.Create(loss.ToString(CultureInfo.InvariantCulture));

    private static double? ReadLoss(JsonNode? node, string path, string field)
    {
        if (node is null) return null;
        if (node.GetValueKind() != JsonValueKind.String) return node.GetValue<double>();
        string text = node.GetValue<string>();
        return text is "NaN" or "Infinity" or "-Infinity"
            ? double.Parse(text, CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"{path}: '{field}' is \"{text}\"; expected a number, \"NaN\", \"Infinity\" or \"-Infinity\".");
    }

    private static SafeTensorWriteEntry Entry(string name, ReadOnlySpan<float> values, Shape shape) =>
        new(name, SafeTensorDType.F32, shape.ToArray(), MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Reads the state and puts the tensor values into <paramref name="parameters"/> (which must match by key and shape).</summary>
    /// <returns>The state, AdamW's step count, and the moments per parameter.</returns>
    public static (State State, int OptimizerSteps, float[][] FirstMoments, float[][] SecondMoments) Load(string folder,
        IReadOnlyList<(string Key, Tensor Tensor)> parameters)
    {
        // A write killed between its two moves leaves the checkpoint only moved aside; leftovers of others are removed.
        AtomicFolder.Recover(folder);
        string statePath = Path.Combine(folder, StateFileName);
        string tensorsPath = Path.Combine(folder, TensorsFileName);
        if (!File.Exists(statePath)) throw new FileNotFoundException($"Not a training checkpoint: no {StateFileName} in {folder}.", statePath);
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(statePath)) ?? throw new InvalidDataException($"{statePath}: empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{statePath}: not valid JSON ({ex.Message}).", ex);
        }
        var names = root["parameters"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray()
            ?? throw new InvalidDataException($"{statePath}: no 'parameters' list.");
        var expected = parameters.Select(p => p.Key).ToArray();
        if (!names.SequenceEqual(expected))
            throw new InvalidDataException(
                $"{statePath}: the checkpoint holds tensors [{string.Join(", ", names.Take(6))}{(names.Length > 6 ? ", …" : "")}] " +
                $"but the model's trainable adapters have [{string.Join(", ", expected.Take(6))}{(expected.Length > 6 ? ", …" : "")}]; " +
                "activate the same adapters (same names) as when it was written.");
        using var file = SafeTensorsFile.Open(tensorsPath);
        var m = new float[parameters.Count][];
        var v = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            var (key, tensor) = parameters[i];
            Read(file, tensorsPath, "param/" + key, tensor.Shape, tensor.Span);
            tensor.MarkModified();
            m[i] = new float[tensor.Length];
            v[i] = new float[tensor.Length];
            Read(file, tensorsPath, "adam_m/" + key, tensor.Shape, m[i]);
            Read(file, tensorsPath, "adam_v/" + key, tensor.Shape, v[i]);
        }
        var randomStates = root["random_states"]?.AsArray().Select(n =>
        {
            var a = n!.AsArray();
            return (a[0]!.GetValue<uint>(), a[1]!.GetValue<uint>(), a[2]!.GetValue<uint>(), a[3]!.GetValue<uint>());
        }).ToArray() ?? [];
        var state = new State(
            root["step"]!.GetValue<int>(), root["total_steps"]!.GetValue<int>(), root["seed"]!.GetValue<ulong>(),
            ReadLoss(root["best_loss"], statePath, "best_loss"), root["best_step"]?.GetValue<int>(), root["best_tokens"]?.GetValue<long>() ?? 0,
            root["evaluations_without_improvement"]!.GetValue<int>(), randomStates);
        return (state, root["optimizer_steps"]!.GetValue<int>(), m, v);
    }

    private static void Read(SafeTensorsFile file, string path, string key, Shape shape, Span<float> destination)
    {
        if (!file.Contains(key)) throw new InvalidDataException($"{path}: missing tensor '{key}'.");
        var info = file.GetInfo(key);
        if (!info.Shape.AsSpan().SequenceEqual(shape.ToArray()))
            throw new InvalidDataException($"{path}: tensor '{key}' has shape {info.ShapeText} but the adapter's is {shape}.");
        file.ReadFloat32(key, destination);
    }
}
