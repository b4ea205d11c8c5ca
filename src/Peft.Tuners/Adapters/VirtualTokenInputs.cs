using Peft.Tensors;
using Peft.Transformers.Masking;

namespace Peft.Tuners.Adapters;

/// <summary>
/// How prompt-learning methods (prompt tuning, P-tuning, multitask prompt tuning) feed a model,
/// exactly as HF PEFT does: virtual embeddings before each row's token embeddings, the attention
/// mask extended with ones, and the labels (causal models) extended with -100.
/// </summary>
public static class VirtualTokenInputs
{
    /// <summary>Prepends <paramref name="virtualTokens"/> ([count, hidden], shared, or [batch, count, hidden], per row).</summary>
    public static (Tensor Embeddings, IntTensor Mask, IntTensor? Labels) Prepend(Tensor virtualTokens, Tensor tokenEmbeddings, IntTensor? attentionMask,
        IntTensor? labels)
    {
        ArgumentNullException.ThrowIfNull(virtualTokens);
        ArgumentNullException.ThrowIfNull(tokenEmbeddings);
        if (tokenEmbeddings.Rank != 3) throw new ArgumentException($"Token embeddings must be [batch, length, hidden]; got {tokenEmbeddings.Shape}.",
            nameof(tokenEmbeddings));
        int batch = tokenEmbeddings.Shape[0], length = tokenEmbeddings.Shape[1], hidden = tokenEmbeddings.Shape[2];
        Tensor perRow;
        if (virtualTokens.Rank == 2 && virtualTokens.Shape[1] == hidden)
        {
            var one = Ops.Reshape(virtualTokens, 1, virtualTokens.Shape[0], hidden);
            perRow = Ops.Repeat(one, batch);
        }
        else if (virtualTokens.Rank == 3 && virtualTokens.Shape[0] == batch && virtualTokens.Shape[2] == hidden) perRow = virtualTokens;
        else throw new ArgumentException($"Virtual tokens {virtualTokens.Shape} must be [count, {hidden}] or [{batch}, count, {hidden}].",
            nameof(virtualTokens));
        int v = perRow.Shape[1];
        var embeddings = Ops.Concat([perRow, tokenEmbeddings], 1);
        var mask = AttentionMasks.WithLeadingOnes(attentionMask, batch, length, v);
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

    /// <summary>
    /// Inserts <paramref name="virtualTokens"/> where <paramref name="placement"/> puts them:
    /// <see cref="Prepend"/> or <see cref="InsertNextToInput"/>.
    /// </summary>
    public static (Tensor Embeddings, IntTensor Mask, IntTensor? Labels) Insert(Tensor virtualTokens, Tensor tokenEmbeddings, IntTensor? attentionMask,
        IntTensor? labels, VirtualTokenPlacement placement) =>
        placement == VirtualTokenPlacement.NextToInput
            ? InsertNextToInput(virtualTokens, tokenEmbeddings, attentionMask, labels)
            : Prepend(virtualTokens, tokenEmbeddings, attentionMask, labels);

    /// <summary>
    /// The mask [batch, count + length] of a row whose virtual tokens were fed earlier (they sit in
    /// a cache): <paramref name="count"/> ones where <paramref name="placement"/> put them, in front
    /// of the row or after its left padding.
    /// </summary>
    /// <param name="attentionMask">The real tokens' mask [batch, length], or null for all ones.</param>
    /// <param name="batch">Rows.</param>
    /// <param name="length">Real tokens per row.</param>
    /// <param name="count">Virtual tokens per row.</param>
    /// <param name="placement">Where they went.</param>
    public static IntTensor WithVirtualColumns(IntTensor? attentionMask, int batch, int length, int count, VirtualTokenPlacement placement)
    {
        var front = AttentionMasks.WithLeadingOnes(attentionMask, batch, length, count);
        if (placement == VirtualTokenPlacement.BeforePadding || attentionMask is null) return front;
        var mask = IntTensor.Zeros(front.Shape);
        for (int b = 0; b < batch; b++)
        {
            int f = LeadingPadding(attentionMask, b, length);
            var hf = front.Span.Slice(b * (count + length), count + length);
            var row = mask.Span.Slice(b * (count + length), count + length);
            // HF row: [virtual ones][row mask]; here: [row mask up to f][virtual ones][rest].
            hf.Slice(count, f).CopyTo(row);
            row.Slice(f, count).Fill(1);
            hf.Slice(count + f).CopyTo(row.Slice(f + count));
        }
        return mask;
    }

    /// <summary>Left-padding columns of row <paramref name="b"/> (at most length − 1: the last column is always fed).</summary>
    private static int LeadingPadding(IntTensor? attentionMask, int b, int length)
    {
        int f = 0;
        if (attentionMask is not null)
            while (f < length - 1 && attentionMask.Span[b * length + f] == 0) f++;
        return f;
    }

    /// <summary>
    /// Like <see cref="Prepend"/> but each row's virtual tokens go right before its first real token
    /// (after any left padding): [padding][virtual][tokens]. Pair it with positions counted from the
    /// mask, so a left-padded row gives what it gives alone.
    /// </summary>
    public static (Tensor Embeddings, IntTensor Mask, IntTensor? Labels) InsertNextToInput(Tensor virtualTokens, Tensor tokenEmbeddings,
        IntTensor? attentionMask, IntTensor? labels)
    {
        ArgumentNullException.ThrowIfNull(virtualTokens);
        ArgumentNullException.ThrowIfNull(tokenEmbeddings);
        var (_, hfMask, hfLabels) = Prepend(virtualTokens, tokenEmbeddings, attentionMask, labels);
        int batch = tokenEmbeddings.Shape[0], length = tokenEmbeddings.Shape[1];
        int v = hfMask.Shape[1] - length;
        var perRowTokens = virtualTokens.Rank == 3 ? virtualTokens : null;
        var rows = new Tensor[batch];
        var mask = WithVirtualColumns(attentionMask, batch, length, v, VirtualTokenPlacement.NextToInput);
        var extended = labels is null ? null : IntTensor.Zeros(hfMask.Shape);
        for (int b = 0; b < batch; b++)
        {
            int f = LeadingPadding(attentionMask, b, length);
            var tokens = Ops.Slice(tokenEmbeddings, 0, b, 1);
            var own = perRowTokens is null ? Ops.Reshape(virtualTokens, 1, v, virtualTokens.Shape[1]) : Ops.Slice(perRowTokens, 0, b, 1);
            rows[b] = f == 0 ? Ops.Concat([own, tokens], 1) : Ops.Concat([Ops.Slice(tokens, 1, 0, f), own, Ops.Slice(tokens, 1, f, length - f)], 1);
            if (extended is not null)
            {
                var hl = hfLabels!.Span.Slice(b * (v + length), v + length);
                var el = extended.Span.Slice(b * (v + length), v + length);
                hl.Slice(v, f).CopyTo(el);
                el.Slice(f, v).Fill(-100);
                hl.Slice(v + f).CopyTo(el.Slice(f + v));
            }
        }
        return (batch == 1 ? rows[0] : Ops.Concat(rows, 0), mask, extended);
    }
}
