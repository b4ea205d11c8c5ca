using Peft.Tensors.Quantization;
using Peft.Transformers.Configuration;
using Peft.Transformers.SafeTensors;
using Peft.Transformers.Tests;
using Peft.Tuners.Tests.Contracts;

namespace Peft.Tuners.Tests;

/// <summary>
/// LoRA trained on a 16-bit base (BF16 and F16 checkpoints of the gpt2, llama and t5 fixtures, loaded 16-bit) against the
/// same checkpoint loaded float32 (its values widened exactly): the same seed gives the same adapter, the loss falls, and
/// losses and trained adapter weights agree within float32 summation differences (the forward and input-gradient products
/// only sum in another order): losses within 1e-5 relative, adapter weights within 1e-4 + 1e-3 relative after five AdamW steps.
/// </summary>
[TestClass]
public sealed class HalfBaseTrainingTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(ModelFamily.Gpt2, SafeTensorDType.BF16)]
    [DataRow(ModelFamily.Gpt2, SafeTensorDType.F16)]
    [DataRow(ModelFamily.Llama, SafeTensorDType.BF16)]
    [DataRow(ModelFamily.Llama, SafeTensorDType.F16)]
    [DataRow(ModelFamily.T5, SafeTensorDType.BF16)]
    [DataRow(ModelFamily.T5, SafeTensorDType.F16)]
    public void LoraTrainsOnA16BitBaseLikeOnItsFloat32Widening(ModelFamily family, SafeTensorDType dtype)
    {
        var format = dtype == SafeTensorDType.BF16 ? QuantizationFormat.BFloat16 : QuantizationFormat.Float16;
        var lora = MethodMatrix.Methods.Single(m => m.Name == "lora");
        string folder = SixteenBitCheckpoint.Write(Fixtures.Hf($"{MethodMatrix.FamilyName(family)}_base", "base"), dtype);
        try
        {
            var widened = ContractRig.Build(new ContractCase(lora, family, QuantizationFormat.None), folder);
            var half = ContractRig.Build(new ContractCase(lora, family, format), folder);
            Assert.IsTrue(half.Base.LinearLayers.All(l => l.QuantizedWeight is HalfMatrix h && h.Format == format), "every linear layer is 16-bit");
            float before = half.Loss();
            Assert.AreEqual(widened.Loss(), before, 1e-5f * Math.Abs(before), "loss of the fresh adapter");

            var halfLosses = half.Train(steps: 5, learningRate: 0.01f);
            var widenedLosses = widened.Train(steps: 5, learningRate: 0.01f);
            float after = half.Loss();
            TestContext.WriteLine($"{family} {dtype}: losses {string.Join(", ", halfLosses)} -> {after}; float32: {string.Join(", ", widenedLosses)}");
            Assert.IsLessThan(before, after, "training on the 16-bit base lowers the loss");
            for (int i = 0; i < halfLosses.Length; i++)
                Assert.AreEqual(widenedLosses[i], halfLosses[i], 1e-5f * Math.Abs(widenedLosses[i]), $"loss of step {i}");

            var a = widened.Model.TrainableParameters;
            var b = half.Model.TrainableParameters;
            Assert.HasCount(a.Count, b);
            double worst = 0;
            for (int i = 0; i < a.Count; i++)
            {
                var x = a[i].ToArray();
                var y = b[i].ToArray();
                for (int j = 0; j < x.Length; j++) worst = Math.Max(worst, Math.Abs(x[j] - y[j]) - 1e-3 * Math.Abs(x[j]));
                Same.Close(x, y, 1e-4f, 1e-3f, $"{family} {dtype}: adapter tensor {i} trained on the 16-bit base vs the float32 one");
            }
            TestContext.WriteLine($"{family} {dtype}: worst adapter difference beyond 1e-3 relative: {worst:G3}");
            var withGrad = half.Model.BaseModel.Parameters.All.Where(p => p.Tensor.Grad is not null).Select(p => p.Name).ToArray();
            Assert.IsEmpty(withGrad, "base parameters with a gradient");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
