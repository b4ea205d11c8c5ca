using Peft.Tensors;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Commands;

/// <summary>The tensors of an inputs file (<c>input_ids</c>, <c>attention_mask</c>, and optional ones), as int32.</summary>
internal sealed class ModelInputs
{
    public required IntTensor InputIds { get; init; }

    public IntTensor? AttentionMask { get; init; }

    public IntTensor? DecoderInputIds { get; init; }

    public IntTensor? TaskIds { get; init; }

    public IntTensor? Labels { get; init; }

    public static ModelInputs Read(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"inputs file not found: {path}");
        using var file = SafeTensorsFile.Open(path);
        IntTensor? Read(string name)
        {
            if (!file.Contains(name)) return null;
            var info = file.GetInfo(name);
            if (info.DType is not (SafeTensorDType.I64 or SafeTensorDType.I32))
                throw new UsageException($"{path}: tensor '{name}' has dtype {info.DType}; expected int64 or int32.");
            return IntTensor.FromArray(file.ReadInt32(name), info.Shape);
        }
        var ids = Read("input_ids") ?? throw new UsageException($"{path}: no tensor named 'input_ids'.");
        if (ids.Shape.Rank != 2) throw new UsageException($"{path}: input_ids must be [batch, length]; got {ids.Shape}.");
        var inputs = new ModelInputs
        {
            InputIds = ids,
            AttentionMask = Read("attention_mask"),
            DecoderInputIds = Read("decoder_input_ids"),
            TaskIds = Read("task_ids"),
            Labels = Read("labels"),
        };
        if (inputs.AttentionMask is { } m && m.Shape != ids.Shape)
            throw new UsageException($"{path}: attention_mask {m.Shape} must match input_ids {ids.Shape}.");
        return inputs;
    }
}
