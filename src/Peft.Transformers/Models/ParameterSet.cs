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

    // Checkpoint layouts of weights replaced by 16-bit matrices, which are saved as plain F16/BF16 tensors in that layout.
    private readonly Dictionary<string, StoredLayout> _halfLayouts = new(StringComparer.Ordinal);

    /// <summary>Float parameters in registration order (quantized weights are in <see cref="Quantized"/>).</summary>
    public IReadOnlyList<ModelParameter> All => _ordered;

    /// <summary>Weights replaced by quantized matrices, in the order they were replaced.</summary>
    public IReadOnlyList<QuantizedParameter> Quantized => _quantized;

    /// <summary>Bytes held by the weights: 4 per float value plus the quantized matrices' codes and scales (16-bit ones: 2 per value).</summary>
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
        if (matrix is HalfMatrix) _halfLayouts[name] = p.Layout;
        var q = new QuantizedParameter(name, matrix);
        _quantized.Add(q);
        foreach (var entry in QuantizedWeightFile.EntryNames(name, matrix)) _quantizedEntryNames.Add(entry);
    }

    /// <summary>
    /// Reads float parameter <paramref name="name"/> (or its alias) from <paramref name="checkpoint"/> as a 16-bit matrix and
    /// replaces the parameter by it (<see cref="ReplaceWithQuantized"/>). A tensor stored in <paramref name="format"/> keeps
    /// its bits; an F32 tensor, or one in the other 16-bit format, is rounded to nearest even. The float weight is never
    /// read into the model.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No float parameter has that name.</exception>
    /// <exception cref="InvalidDataException">
    /// The tensor is missing, has the wrong shape or a dtype that is not F32, F16 or BF16, or holds a value the format cannot hold.
    /// </exception>
    public HalfMatrix LoadHalf(CheckpointReader checkpoint, string name, QuantizationFormat format, IReadOnlyDictionary<string, string>? aliases = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!_byName.TryGetValue(name, out var p)) throw new KeyNotFoundException($"The model has no float parameter named '{name}' to load 16-bit.");
        string source = name;
        if (!checkpoint.Contains(source) && aliases is not null && aliases.TryGetValue(name, out var alias) && checkpoint.Contains(alias)) source = alias;
        if (!checkpoint.Contains(source))
            throw new InvalidDataException($"{checkpoint.Folder}: the checkpoint lacks '{name}', which the model needs.");
        var info = checkpoint.GetInfo(source);
        var expected = p.StoredShape;
        if (info.DType is not (SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16))
            throw new InvalidDataException(
                $"{checkpoint.Folder}: {format} weights were asked for, but tensor '{source}' has dtype {info.DType}; " +
                "16-bit loading reads F32, F16 or BF16 tensors only (a quantized int8/NF4 folder loads in its own format).");
        if (!info.Shape.AsSpan().SequenceEqual(expected))
            throw new InvalidDataException(
                $"{checkpoint.Folder}: tensor '{source}' has shape {info.ShapeText} but the model (from config.json) needs [{string.Join(", ", expected)}].");
        int rows = p.Tensor.Shape[0], columns = p.Tensor.Shape[1];
        bool transposed = p.Layout == StoredLayout.TransposedConv1D;
        HalfMatrix matrix;
        try
        {
            if (info.DType == (format == QuantizationFormat.BFloat16 ? SafeTensorDType.BF16 : SafeTensorDType.F16))
                matrix = HalfMatrix.FromBytes(format, rows, columns, checkpoint.GetBytes(source), transposed);
            else
            {
                // F32 (or the other 16-bit format): widen to the float parameter's own buffer, then round to nearest even.
                var stored = new float[p.Tensor.Length];
                checkpoint.ReadFloat32(source, stored);
                p.FromStored(stored, p.Tensor.Span);
                matrix = HalfMatrix.Round(p.Tensor, format);
            }
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{checkpoint.Folder}: tensor '{source}' cannot be held as {format}: {ex.Message}", ex);
        }
        ReplaceWithQuantized(name, matrix);
        _quantizedEntryNames.Add(source);
        return matrix;
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
            if (q.Matrix is HalfMatrix half)
            {
                yield return HalfEntry(q.Name, half, _halfLayouts.GetValueOrDefault(q.Name));
                continue;
            }
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

    // A 16-bit weight as an ordinary F16/BF16 tensor in the checkpoint layout, so any loader (float or 16-bit) reads it back.
    private static SafeTensorWriteEntry HalfEntry(string name, HalfMatrix half, StoredLayout layout)
    {
        var bits = new ushort[(long)half.Rows * half.Columns];
        int[] shape;
        if (layout == StoredLayout.TransposedConv1D)
        {
            shape = [half.Columns, half.Rows];
            var src = half.Bits;
            for (int r = 0; r < half.Rows; r++)
                for (int c = 0; c < half.Columns; c++) bits[(long)c * half.Rows + r] = src[r * half.Columns + c];
        }
        else
        {
            shape = [half.Rows, half.Columns];
            half.Bits.CopyTo(bits);
        }
        var dtype = half.Format == QuantizationFormat.BFloat16 ? SafeTensorDType.BF16 : SafeTensorDType.F16;
        return new SafeTensorWriteEntry(name, dtype, shape, MemoryMarshal.AsBytes(bits.AsSpan()).ToArray());
    }
}
