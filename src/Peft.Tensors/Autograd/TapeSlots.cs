namespace Peft.Tensors;

/// <summary>The tensor fields of a <see cref="TapeEntry"/>, as bits: which ones backward reads the values of.</summary>
[Flags]
internal enum TapeSlots : byte
{
    None = 0,
    Output = 1,
    A = 2,
    B = 4,
    C = 8,
    D = 16,
    Saved0 = 32,
    Saved1 = 64,
    Saved2 = 128,
    All = 255,
}
