using Peft.Tensors.Quantization;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Quantization;

/// <summary>
/// Quantizes a loaded model's frozen linear layers (those of the transformer blocks; embeddings,
/// the LM head and norms stay float) and drops their float weights from the model's parameters.
/// BFloat16 and Float16 round the float weights to nearest even 16-bit values instead.
/// </summary>
public static class ModelQuantization
{
    /// <summary>Quantizes a decoder-only model's linear layers; returns how many were quantized.</summary>
    /// <exception cref="ArgumentException">The format is None or unknown.</exception>
    /// <exception cref="InvalidOperationException">A weight to quantize requires gradients.</exception>
    public static int Quantize(CausalLanguageModel model, QuantizationFormat format, bool doubleQuantization = false,
        IEnumerable<string>? excludedModules = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Quantize(model.LinearLayers, model.Parameters, format, doubleQuantization, excludedModules);
    }

    /// <summary>Quantizes a T5 model's linear layers; returns how many were quantized.</summary>
    /// <exception cref="ArgumentException">The format is None or unknown.</exception>
    /// <exception cref="InvalidOperationException">A weight to quantize requires gradients.</exception>
    public static int Quantize(T5Model model, QuantizationFormat format, bool doubleQuantization = false, IEnumerable<string>? excludedModules = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Quantize(model.LinearLayers, model.Parameters, format, doubleQuantization, excludedModules);
    }

    internal static int Quantize(IReadOnlyList<LinearLayer> layers, ParameterSet parameters, QuantizationFormat format, bool doubleQuantization,
        IEnumerable<string>? excludedModules)
    {
        if (format is not (QuantizationFormat.Int8 or QuantizationFormat.Nf4 or QuantizationFormat.BFloat16 or QuantizationFormat.Float16))
            throw new ArgumentException(
                $"ModelQuantization.Quantize: format {format} is not a quantized format; use Int8, Nf4, BFloat16 or Float16.", nameof(format));
        var excluded = excludedModules?.ToArray() ?? [];
        int count = 0;
        foreach (var layer in layers)
        {
            if (layer.IsQuantized || IsExcluded(layer.Name, excluded)) continue;
            string name = layer.Weight.Name ?? layer.Name + ".weight";
            var q = layer.Quantize(format, doubleQuantization);
            parameters.ReplaceWithQuantized(name, q);
            count++;
        }
        return count;
    }

    /// <summary>True when <paramref name="module"/> equals an excluded name or ends with "." + it.</summary>
    internal static bool IsExcluded(string module, IReadOnlyList<string> excluded)
    {
        foreach (var e in excluded)
            if (ModuleNames.Matches(module, e)) return true;
        return false;
    }

    /// <summary>
    /// The quantization config describing a parameter set's int8/NF4 weights, or null when there are none (16-bit weights
    /// are saved as plain F16/BF16 tensors, which need no config).
    /// </summary>
    internal static QuantizationConfig? Describe(ParameterSet parameters, bool quantizedLmHead = false)
    {
        var quantized = parameters.Quantized.Where(q => q.Matrix is not HalfMatrix).ToList();
        if (quantized.Count == 0) return null;
        var first = quantized[0].Matrix;
        bool dq = first is Nf4Matrix { DoubleQuantized: true };
        foreach (var q in quantized)
            if (q.Matrix.Format != first.Format || (q.Matrix is Nf4Matrix nf && nf.DoubleQuantized != dq))
                throw new InvalidOperationException(
                    $"Cannot save a model whose weights mix quantization formats ({first.Format} and {q.Matrix.Format} at '{q.Name}').");
        return new QuantizationConfig { Format = first.Format, DoubleQuantization = dq, QuantizedLmHead = quantizedLmHead };
    }
}
