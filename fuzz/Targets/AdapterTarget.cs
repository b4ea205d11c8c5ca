using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.SafeTensors;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;

namespace Peft.Fuzz;

/// <summary>
/// An HF PEFT adapter folder: adapter_config.json, a NUL, then adapter_model.safetensors (the config alone when there is
/// no NUL, with the fixture's LoRA weights). Loaded onto the tiny GPT-2, Llama and T5 fixture bases, and when it loads,
/// two tokens are generated through it.
/// </summary>
public static class AdapterTarget
{
    /// <summary>The target.</summary>
    public static FuzzTarget Target { get; } = new("adapter",
        [typeof(AdapterConfigException), typeof(InvalidDataException), typeof(SafeTensorsFormatException)], Parse);

    private static readonly Lazy<ILanguageModel[]> Bases = new(() =>
    [
        ModelLoader.LoadCausal(FixtureFolders.Base("gpt2")),
        ModelLoader.LoadCausal(FixtureFolders.Base("llama")),
        ModelLoader.LoadSeq2Seq(FixtureFolders.Base("t5")),
    ]);

    private static readonly Lazy<byte[]> DefaultWeights =
        new(() => File.ReadAllBytes(Path.Combine(FixtureFolders.Root, "hf", "gpt2_lora", "adapter", AdapterFiles.WeightsFileName)));

    private static void Parse(byte[] input)
    {
        var (config, fuzzedWeights) = FuzzInput.SplitBytes(input);
        byte[] weights = fuzzedWeights ?? DefaultWeights.Value;
        FuzzInput.InScratchFolder(folder =>
        {
            File.WriteAllBytes(Path.Combine(folder, AdapterFiles.ConfigFileName), config);
            File.WriteAllBytes(Path.Combine(folder, AdapterFiles.WeightsFileName), weights);
            Exception? first = null;
            int loaded = 0;
            foreach (var baseModel in Bases.Value)
            {
                // Each base on its own: an adapter made for one family is rejected by the others.
                try
                {
                    LoadAndGenerate(baseModel, folder);
                    loaded++;
                }
                catch (Exception e) when (Target.Documented.Any(t => t.IsInstanceOfType(e)))
                {
                    first ??= e;
                }
            }
            if (loaded == 0 && first is not null) throw first;
        });
    }

    private static void LoadAndGenerate(ILanguageModel baseModel, string folder)
    {
        var model = new PeftModel(baseModel);
        try
        {
            model.LoadAdapter(folder, "fuzzed");
            using var scope = new TensorScope();
            _ = model.Generate(IntTensor.FromArray([3, 9, 13], 1, 3), null, new GenerationOptions { MaxNewTokens = 2, EosTokenIds = [] },
                model.NeedsTaskIds ? IntTensor.FromArray([0], 1) : null);
        }
        finally
        {
            // Weight adapters attach to the shared base's layers: detach before the next input.
            foreach (string name in model.AdapterNames.ToArray()) model.DeleteAdapter(name);
        }
    }
}
