using CsCheck;
using Peft.Tensors.Quantization;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;
using Peft.Transformers.Quantization;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// How a random tiny base is quantized: int8, NF4 or double-quantized NF4, some linear layers kept
/// float, weights scaled by a power of ten (magnitudes from 1e-30 to 1e30, so scales are tiny or
/// huge) and every k-th row zeroed (absmax 0, a scale of 0).
/// </summary>
/// <param name="Format">Int8 or Nf4.</param>
/// <param name="DoubleQuantization">NF4's absmax values quantized again (int8 per group of 256 blocks).</param>
/// <param name="ExcludedMask">Which of the block's linear layer names stay float (bit i: the i-th of <see cref="TinyModelSpec.LinearModuleNames"/>).</param>
/// <param name="Exponent">Weights are multiplied by 10^Exponent.</param>
/// <param name="ZeroRowEvery">Every k-th row of each weight is zeroed (0: none).</param>
internal sealed record RandomQuantization(QuantizationFormat Format, bool DoubleQuantization, int ExcludedMask, int Exponent, int ZeroRowEvery)
{
    public static Gen<RandomQuantization> Generate { get; } = Gen.Select(
        Gen.OneOf<QuantizationFormat>(QuantizationFormat.Int8, QuantizationFormat.Nf4),
        Gen.Bool,
        Gen.Int[0, 127].Select(mask => mask & ~1), // the first name is never excluded: something is quantized
        Gen.Frequency<int>((4, Gen.Int[-3, 3]), (1, Gen.Int[-30, 30])),
        Gen.Int[0, 4],
        (format, dq, excluded, exponent, zeroRows) => new RandomQuantization(format, dq && format == QuantizationFormat.Nf4, excluded, exponent, zeroRows));

    /// <summary>Scales and zeroes the weights of <paramref name="model"/>'s linear layers, then quantizes those not excluded; returns how many.</summary>
    public int Apply(ILanguageModel model, TinyModelSpec spec)
    {
        float factor = MathF.Pow(10f, Exponent);
        foreach (var layer in model.LinearLayers)
        {
            var weight = layer.Weight.Span;
            int columns = layer.InFeatures;
            for (int i = 0; i < weight.Length; i++)
                weight[i] = ZeroRowEvery > 0 && i / columns % ZeroRowEvery == 0 ? 0f : weight[i] * factor;
        }
        string[] names = spec.LinearModuleNames();
        string[] excluded = names.Where((_, i) => (ExcludedMask >> i & 1) == 1).ToArray();
        return model switch
        {
            CausalLanguageModel causal => ModelQuantization.Quantize(causal, Format, DoubleQuantization, excluded),
            T5Model t5 => ModelQuantization.Quantize(t5, Format, DoubleQuantization, excluded),
            _ => throw new ArgumentException($"Unknown model {model.GetType().Name}.", nameof(model)),
        };
    }
}
