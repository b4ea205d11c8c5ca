using System.Runtime.InteropServices;
using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Loading;
using Peft.Transformers.Quantization;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Models;

/// <summary>
/// A model's parameters by Hugging Face name, in registration order. Loads them from a
/// checkpoint with every name and shape checked, saves them back in the checkpoint layout.
/// </summary>
public sealed class ParameterSet
{
    private readonly List<ModelParameter> _ordered = [];
    private readonly Dictionary<string, ModelParameter> _byName = new(StringComparer.Ordinal);

    private readonly List<QuantizedParameter> _quantized = [];
    private readonly HashSet<string> _quantizedEntryNames = new(StringComparer.Ordinal);

    /// <summary>Float parameters in registration order (quantized weights are in <see cref="Quantized"/>).</summary>
    public IReadOnlyList<ModelParameter> All => _ordered;

    /// <summary>Weights replaced by quantized matrices, in the order they were replaced.</summary>
    public IReadOnlyList<QuantizedParameter> Quantized => _quantized;

    /// <summary>Bytes held by the weights: 4 per float value plus the quantized matrices' codes and scales.</summary>
    public long ResidentBytes => 4 * ElementCount + _quantized.Sum(q => q.Matrix.ByteSize);

    /// <summary>
    /// Replaces float parameter <paramref name="name"/> by <paramref name="matrix"/>: the float
    /// tensor leaves the set (its memory can be freed) and saving writes the quantized entries.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No float parameter has that name.</exception>
    /// <exception cref="ArgumentException">The matrix shape differs from the parameter's.</exception>
    public void ReplaceWithQuantized(string name, QuantizedMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (!_byName.TryGetValue(name, out var p)) throw new KeyNotFoundException($"The model has no float parameter named '{name}' to quantize.");
        if (p.Tensor.Rank != 2 || p.Tensor.Shape[0] != matrix.Rows || p.Tensor.Shape[1] != matrix.Columns)
            throw new ArgumentException(
                $"Parameter '{name}' {p.Tensor.Shape} cannot be replaced by a {matrix.Format} matrix [{matrix.Rows}, {matrix.Columns}].", nameof(matrix));
        _ordered.Remove(p);
        _byName.Remove(name);
        var q = new QuantizedParameter(name, matrix);
        _quantized.Add(q);
        foreach (var entry in QuantizedWeightFile.EntryNames(name, matrix)) _quantizedEntryNames.Add(entry);
    }

    /// <summary>Number of parameters (tensors).</summary>
    public int Count => _ordered.Count;

    /// <summary>Total number of scalar values.</summary>
    public long ElementCount => _ordered.Sum(p => (long)p.Tensor.Length);

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    public Tensor this[string name] =>
        _byName.TryGetValue(name, out var p) ? p.Tensor : throw new KeyNotFoundException($"The model has no parameter named '{name}'.");

    /// <summary>True when a parameter of that name exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Creates and registers a zero tensor (frozen: RequiresGrad false).</summary>
    public Tensor Add(string name, Shape shape, StoredLayout layout = StoredLayout.AsIs)
    {
        if (_byName.ContainsKey(name)) throw new ArgumentException($"Parameter '{name}' is registered twice.", nameof(name));
        var tensor = Tensor.Wrap(new float[shape.ElementCount], shape);
        tensor.Name = name;
        var p = new ModelParameter(name, tensor, layout);
        _ordered.Add(p);
        _byName[name] = p;
        return tensor;
    }

    /// <summary>Sets RequiresGrad on every parameter (false freezes the base model).</summary>
    public void SetRequiresGrad(bool requiresGrad)
    {
        foreach (var p in _ordered) p.Tensor.RequiresGrad = requiresGrad;
    }

    /// <summary>Fills every parameter from <paramref name="checkpoint"/>, checking names and shapes.</summary>
    /// <exception cref="InvalidDataException">
    /// A parameter is missing or has the wrong shape, or (unless allowed) the checkpoint has tensors the model does not use.
    /// </exception>
    public void Load(CheckpointReader checkpoint, LoadOptions options, Func<string, bool> isIgnorable, IReadOnlyDictionary<string, string>? aliases = null,
        Func<string, bool>? mayBeMissing = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var missing = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        // One buffer, grown as needed, for weights stored transposed (no per-weight garbage).
        float[] stored = [];
        foreach (var p in _ordered)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string source = p.Name;
            if (!checkpoint.Contains(source) && aliases is not null && aliases.TryGetValue(p.Name, out var alias) && checkpoint.Contains(alias))
                source = alias;
            if (!checkpoint.Contains(source))
            {
                if (mayBeMissing?.Invoke(p.Name) != true) missing.Add(p.Name);
                continue;
            }
            used.Add(source);
            var info = checkpoint.GetInfo(source);
            var expected = p.StoredShape;
            if (info.DType is not (SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16))
                throw new InvalidDataException($"{checkpoint.Folder}: tensor '{source}' has dtype {info.DType}; model weights must be F32, F16 or BF16" +
                    (info.DType is SafeTensorDType.I8 or SafeTensorDType.U8
                        ? " (quantized weights need a quantization_config in config.json naming their format)."
                        : "."));
            if (!info.Shape.AsSpan().SequenceEqual(expected))
                throw new InvalidDataException(
                    $"{checkpoint.Folder}: tensor '{source}' has shape {info.ShapeText} but the model (from config.json) needs " +
                    $"[{string.Join(", ", expected)}].");
            if (p.Layout == StoredLayout.AsIs)
            {
                checkpoint.ReadFloat32(source, p.Tensor.Span);
            }
            else
            {
                if (stored.Length < p.Tensor.Length) stored = new float[p.Tensor.Length];
                checkpoint.ReadFloat32(source, stored.AsSpan(0, p.Tensor.Length));
                p.FromStored(stored.AsSpan(0, p.Tensor.Length), p.Tensor.Span);
            }
        }
        // Kernels may hold packed copies of frozen weights: tell them the values changed.
        foreach (var p in _ordered) p.Tensor.MarkModified();
        if (missing.Count > 0)
            throw new InvalidDataException(
                $"{checkpoint.Folder}: the checkpoint lacks {missing.Count} parameter(s) the model needs: " +
                $"{string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", ..." : "")}.");
        if (!options.AllowUnexpectedKeys)
        {
            var unexpected = checkpoint.Names.Where(n => !used.Contains(n) && !_quantizedEntryNames.Contains(n) && !isIgnorable(n))
                .OrderBy(n => n, StringComparer.Ordinal).ToList();
            if (unexpected.Count > 0)
                throw new InvalidDataException(
                    $"{checkpoint.Folder}: the checkpoint has {unexpected.Count} tensor(s) the model does not use: " +
                    $"{string.Join(", ", unexpected.Take(10))}{(unexpected.Count > 10 ? ", ..." : "")}. Set LoadOptions.AllowUnexpectedKeys to ignore them.");
        }
    }

    /// <summary>The parameters as safetensors entries in the checkpoint layout (skipping <paramref name="exclude"/>, e.g. tied weights).</summary>
    public IEnumerable<SafeTensorWriteEntry> ToEntries(Func<string, bool>? exclude = null)
    {
        foreach (var q in _quantized)
        {
            if (exclude?.Invoke(q.Name) == true) continue;
            foreach (var entry in QuantizedWeightFile.ToEntries(q.Name, q.Matrix)) yield return entry;
        }
        foreach (var p in _ordered)
        {
            if (exclude?.Invoke(p.Name) == true) continue;
            var shape = p.StoredShape;
            var values = p.ToStored(p.Tensor.Span);
            yield return new SafeTensorWriteEntry(p.Name, SafeTensorDType.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        }
    }
}
