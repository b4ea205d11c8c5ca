using Peft.Tensors;

namespace Peft.Tuners.Adapters;

/// <summary>
/// How prompt-learning methods (prompt tuning, P-tuning, multitask prompt tuning) feed a model,
/// exactly as HF PEFT does: virtual embeddings before each row's token embeddings, the attention
/// mask extended with ones, and the labels (causal models) extended with -100.
/// </summary>
public static class VirtualTokenInputs
{
    /// <summary>Prepends <paramref name="virtualTokens"/> ([count, hidden], shared, or [batch, count, hidden], per row).</summary>
    public static (Tensor Embeddings, IntTensor Mask, IntTensor? Labels) Prepend(Tensor virtualTokens, Tensor tokenEmbeddings, IntTensor? attentionMask, IntTensor? labels)
    {
        ArgumentNullException.ThrowIfNull(virtualTokens);
        ArgumentNullException.ThrowIfNull(tokenEmbeddings);
        if (tokenEmbeddings.Rank != 3) throw new ArgumentException($"Token embeddings must be [batch, length, hidden]; got {tokenEmbeddings.Shape}.", nameof(tokenEmbeddings));
        int batch = tokenEmbeddings.Shape[0], length = tokenEmbeddings.Shape[1], hidden = tokenEmbeddings.Shape[2];
        Tensor perRow;
        if (virtualTokens.Rank == 2 && virtualTokens.Shape[1] == hidden)
        {
            var one = Ops.Reshape(virtualTokens, 1, virtualTokens.Shape[0], hidden);
            perRow = batch == 1 ? one : Ops.Concat(Enumerable.Repeat(one, batch).ToArray(), 0);
        }
        else if (virtualTokens.Rank == 3 && virtualTokens.Shape[0] == batch && virtualTokens.Shape[2] == hidden) perRow = virtualTokens;
        else throw new ArgumentException($"Virtual tokens {virtualTokens.Shape} must be [count, {hidden}] or [{batch}, count, {hidden}].", nameof(virtualTokens));
        int v = perRow.Shape[1];
        var embeddings = Ops.Concat([perRow, tokenEmbeddings], 1);
        var mask = IntTensor.Zeros(new Shape(batch, v + length));
        for (int b = 0; b < batch; b++)
        {
            mask.Span.Slice(b * (v + length), v).Fill(1);
            if (attentionMask is null) mask.Span.Slice(b * (v + length) + v, length).Fill(1);
            else attentionMask.Span.Slice(b * length, length).CopyTo(mask.Span.Slice(b * (v + length) + v));
        }
        IntTensor? extended = null;
        if (labels is not null)
        {
            extended = IntTensor.Zeros(new Shape(batch, v + length));
            for (int b = 0; b < batch; b++)
            {
                extended.Span.Slice(b * (v + length), v).Fill(-100);
                labels.Span.Slice(b * length, length).CopyTo(extended.Span.Slice(b * (v + length) + v));
            }
        }
        return (embeddings, mask, extended);
    }
}
