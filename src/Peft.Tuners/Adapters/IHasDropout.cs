using Peft.Tensors;

namespace Peft.Tuners.Adapters;

/// <summary>An adapter that draws dropout masks while training; checkpoints save and restore its generators so a resumed run draws the same masks.</summary>
public interface IHasDropout : IPeftAdapter
{
    /// <summary>Its random generators, in a fixed order.</summary>
    IEnumerable<SeededRandom> DropoutGenerators { get; }
}
