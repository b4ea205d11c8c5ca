namespace Peft.Tensors;

/// <summary>
/// Differentiable tensor operations. Each operation validates its inputs, computes its output
/// with vectorized kernels and, when any input requires gradients and recording is on, records
/// a <see cref="TapeEntry"/> whose backward function is a nested singleton class next to it.
/// The class is split over files, one family of operations each.
/// </summary>
public static partial class Ops
{
    internal static ArgumentException ShapeError(string op, string message) => new($"{op}: {message}");
}
