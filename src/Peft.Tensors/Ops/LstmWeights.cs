namespace Peft.Tensors;

/// <summary>
/// The weights of one LSTM layer in one direction, in PyTorch's layout and gate order
/// (input, forget, cell, output): <c>weight_ih_l{k}[_reverse]</c> [4H, in],
/// <c>weight_hh_l{k}[_reverse]</c> [4H, H], and the two optional biases [4H].
/// </summary>
/// <param name="WeightInputHidden">[4·hidden, input].</param>
/// <param name="WeightHiddenHidden">[4·hidden, hidden].</param>
/// <param name="BiasInputHidden">[4·hidden] or null.</param>
/// <param name="BiasHiddenHidden">[4·hidden] or null.</param>
public sealed record LstmWeights(Tensor WeightInputHidden, Tensor WeightHiddenHidden, Tensor? BiasInputHidden, Tensor? BiasHiddenHidden)
{
    /// <summary>Hidden size H.</summary>
    public int HiddenSize => WeightHiddenHidden.Shape[1];

    /// <summary>Input size.</summary>
    public int InputSize => WeightInputHidden.Shape[1];
}
