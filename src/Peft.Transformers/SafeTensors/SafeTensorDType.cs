namespace Peft.Transformers.SafeTensors;

/// <summary>Element types of the safetensors format that this library reads and writes.</summary>
public enum SafeTensorDType
{
    /// <summary>IEEE 754 single precision.</summary>
    F32,
    /// <summary>IEEE 754 half precision.</summary>
    F16,
    /// <summary>bfloat16 (the upper half of a float32).</summary>
    BF16,
    /// <summary>64-bit signed integer.</summary>
    I64,
    /// <summary>32-bit signed integer.</summary>
    I32,
    /// <summary>8-bit signed integer.</summary>
    I8,
    /// <summary>8-bit unsigned integer.</summary>
    U8,
    /// <summary>Boolean stored as one byte.</summary>
    BOOL,
}

/// <summary>Sizes and names of <see cref="SafeTensorDType"/> values.</summary>
public static class SafeTensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 or SafeTensorDType.I32 => 4,
        SafeTensorDType.F16 or SafeTensorDType.BF16 => 2,
        SafeTensorDType.I64 => 8,
        _ => 1,
    };

    /// <summary>Parses the format's dtype string; returns false for types this library does not support.</summary>
    public static bool TryParse(string text, out SafeTensorDType dtype) =>
        Enum.TryParse(text, ignoreCase: false, out dtype) && Enum.IsDefined(dtype);
}
