using CsCheck;
using Peft.Tensors;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// Save → load is the identity for adapters of every method: an adapter with random settings and
/// weights, saved as an HF PEFT folder and loaded into a fresh PeftModel over the same base (built
/// again from the same spec and seed), has the same file contents (config, tensor names, shapes and
/// bits) and gives bit-identical logits.
/// </summary>
[TestClass]
public sealed class AdapterSaveLoadProperties
{
    private const int Iterations = 300;

    private const string Name = "random";

    [TestMethod]
    public void SavedThenLoadedAdapterIsTheSame()
    {
        Gen.Select(TinyModelSpec.Generate, RandomAdapterSpec.Generate, RandomPrompts.Generate).Sample((spec, adapterSpec, prompts) =>
        {
            var saved = new PeftModel(spec.Build()) { Placement = prompts.Placement };
            var adapter = adapterSpec.AddTo(saved, spec, Name);
            // A loaded adapter is frozen, and frozen weights multiply through packed copies (other rounding): compare like with like.
            saved.SetTrainable(Name, false);
            var folder = Directory.CreateTempSubdirectory("peft-adapter-property-");
            try
            {
                saved.SaveAdapter(Name, folder.FullName);
                var loaded = new PeftModel(spec.Build()) { Placement = prompts.Placement };
                var loadedAdapter = loaded.LoadAdapter(folder.FullName, Name);

                var expected = adapter.FileContents();
                var actual = loadedAdapter.FileContents();
                expected.Config["task_type"] = actual.Config["task_type"]?.DeepClone();
                Assert.AreEqual(expected.Config.ToJsonString(), actual.Config.ToJsonString(), "adapter config");
                CollectionAssert.AreEqual(expected.Tensors.Select(t => t.Name).ToArray(), actual.Tensors.Select(t => t.Name).ToArray(), "tensor names");
                for (int i = 0; i < expected.Tensors.Count; i++)
                {
                    Assert.AreEqual(expected.Tensors[i].Shape, actual.Tensors[i].Shape, $"shape of {expected.Tensors[i].Name}");
                    SameBits.Floats(expected.Tensors[i].Span, actual.Tensors[i].Span, $"tensor {expected.Tensors[i].Name}");
                }
                SameBits.Floats(Logits(saved, spec, prompts, adapterSpec), Logits(loaded, spec, prompts, adapterSpec), "logits");
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }, iter: Iterations);
    }

    /// <summary>The logits on the prompts (T5: decoder inputs from the prompts as targets).</summary>
    private static float[] Logits(PeftModel model, TinyModelSpec spec, RandomPrompts prompts, RandomAdapterSpec adapterSpec)
    {
        var ids = prompts.Ids(spec.Vocab);
        using (Autograd.NoGrad())
        using (new TensorScope())
            return model.Forward(ids, prompts.Mask(), model.BaseModel.Config.IsEncoderDecoder ? ids : null, adapterSpec.TaskIds(prompts.RowTasks))
                .Logits.ToArray();
    }
}
