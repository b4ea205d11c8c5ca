using Peft.MLNet.Classification;
using Peft.MLNet.Generation;
using Peft.MLNet.Persistence;
using Peft.MLNet.Runtime;
using Peft.Transformers.Loading;
using Peft.Tuners.PeftModels;

namespace Peft.Fuzz;

/// <summary>
/// Our state inside a saved ML.NET model (the string its value mapping carries): parsed, its settings and columns read
/// and checked, and its adapter bytes loaded onto the tiny GPT-2 fixture base — the steps a loaded model takes before
/// it generates, short of finding the base folder.
/// </summary>
public static class MLNetStateTarget
{
    /// <summary>The target.</summary>
    public static FuzzTarget Target { get; } = new("mlnet-state", [typeof(InvalidDataException), .. AdapterTarget.Target.Documented], Parse);

    private static readonly Lazy<PeftModel> Model = new(() => new PeftModel(ModelLoader.LoadCausal(FixtureFolders.Base("gpt2"))));

    private static void Parse(byte[] input)
    {
        var state = ModelState.Parse(FuzzInput.Text(input));
        if (state.Task == PeftTextGenerationTrainer.TaskName)
        {
            _ = GenerationRuntime.SettingsOf(state);
            if (state.Columns is { } columns) _ = state.ReadPart("columns", () => GenerationColumns.FromJson(columns));
        }
        else _ = ClassifierRuntime.SettingsOf(state);
        var model = Model.Value;
        try
        {
            AdapterBytes.Load(model, "fuzzed", state.AdapterConfigJson, state.AdapterWeights);
        }
        finally
        {
            foreach (string name in model.AdapterNames.ToArray()) model.DeleteAdapter(name);
        }
    }
}
