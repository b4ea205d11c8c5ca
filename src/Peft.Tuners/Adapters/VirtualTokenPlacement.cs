namespace Peft.Tuners.Adapters;

/// <summary>Where prompt adapters' virtual tokens go in a left-padded row, and how positions are counted.</summary>
public enum VirtualTokenPlacement
{
    /// <summary>
    /// Hugging Face PEFT's layout: virtual tokens first, before any padding, and positions counted
    /// 0, 1, … over every column (prefix positions first). Adapters move both ways with this; a
    /// left-padded row's outputs differ slightly from the same row alone.
    /// </summary>
    BeforePadding,

    /// <summary>
    /// Virtual tokens right before each row's first real token, and positions counted over real
    /// and virtual tokens only (padding skipped), so every row of a left-padded batch gives what it
    /// gives alone.
    /// </summary>
    NextToInput,
}
