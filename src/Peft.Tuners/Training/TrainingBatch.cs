using Peft.Tensors;

namespace Peft.Tuners.Training;

/// <summary>Rows padded into tensors: input ids and mask [batch, length], labels, optional task ids, and token counts.</summary>
internal sealed record TrainingBatch(IntTensor InputIds, IntTensor AttentionMask, IntTensor Labels, IntTensor? TaskIds, int InputTokens)
{
    /// <summary>
    /// Pads <paramref name="rows"/> on the right (inputs with <paramref name="padId"/> and mask 0;
    /// labels with -100), cutting rows longer than <paramref name="maxLength"/>. Causal rows without
    /// labels train on their input ids.
    /// </summary>
    /// <exception cref="ArgumentException">An empty row, an id outside the vocabulary, labels of the wrong length, or a missing task id; the message names the row.</exception>
    public static TrainingBatch Collate(IReadOnlyList<TrainingExample> rows, IReadOnlyList<int> indices, bool encoderDecoder, int padId, int? maxLength,
        int vocabSize, bool needsTaskIds, string dataName)
    {
        int batch = indices.Count;
        int length = 0, labelLength = 0, tokens = 0;
        foreach (int index in indices)
        {
            var row = rows[index];
            if (row is null) throw new ArgumentException($"{dataName} row {index} is null.");
            if (row.InputIds is null || row.InputIds.Count == 0) throw new ArgumentException($"{dataName} row {index} has no input ids.");
            int n = Cut(row.InputIds.Count, maxLength);
            length = Math.Max(length, n);
            tokens += n;
            if (encoderDecoder)
            {
                if (row.Labels is null || row.Labels.Count == 0) throw new ArgumentException($"{dataName} row {index} has no labels; an encoder-decoder model trains on target ids.");
                labelLength = Math.Max(labelLength, Cut(row.Labels.Count, maxLength));
            }
            else if (row.Labels is not null && row.Labels.Count != row.InputIds.Count)
                throw new ArgumentException($"{dataName} row {index} has {row.Labels.Count} labels for {row.InputIds.Count} input ids; a causal model needs one label per input position (-100 where no loss is wanted).");
            if (needsTaskIds && row.TaskId is null) throw new ArgumentException($"{dataName} row {index} has no task id, which the multitask prompt tuning adapter needs.");
        }
        if (!encoderDecoder) labelLength = length;
        var ids = IntTensor.Zeros(new Shape(batch, length));
        var mask = IntTensor.Zeros(new Shape(batch, length));
        var labels = IntTensor.Zeros(new Shape(batch, labelLength));
        var taskIds = needsTaskIds ? IntTensor.Zeros(new Shape(batch)) : null;
        ids.Span.Fill(padId);
        labels.Span.Fill(-100);
        for (int b = 0; b < batch; b++)
        {
            int index = indices[b];
            var row = rows[index];
            int n = Cut(row.InputIds.Count, maxLength);
            for (int t = 0; t < n; t++)
            {
                int id = row.InputIds[t];
                if ((uint)id >= (uint)vocabSize) throw new ArgumentException($"{dataName} row {index}: input id {id} at position {t} is outside the model's vocabulary of {vocabSize}.");
                ids.Span[b * length + t] = id;
                mask.Span[b * length + t] = 1;
            }
            var source = row.Labels ?? row.InputIds;
            int m = Cut(source.Count, maxLength);
            for (int t = 0; t < m; t++)
            {
                int label = source[t];
                if (label != -100 && (uint)label >= (uint)vocabSize) throw new ArgumentException($"{dataName} row {index}: label {label} at position {t} is outside the model's vocabulary of {vocabSize} (use -100 to skip a position).");
                labels.Span[b * labelLength + t] = label;
            }
            if (taskIds is not null) taskIds.Span[b] = row.TaskId!.Value;
        }
        return new TrainingBatch(ids, mask, labels, taskIds, tokens);
    }

    private static int Cut(int count, int? maxLength) => maxLength is int max ? Math.Min(count, max) : count;

    /// <summary>
    /// Target tokens the loss averages over: causal labels after the shift (the first label counts
    /// only when virtual tokens precede it, as in PEFT), seq2seq labels as they are.
    /// </summary>
    public long TargetTokens(bool encoderDecoder, int virtualTokens)
    {
        int batch = Labels.Shape[0], length = Labels.Shape[1];
        int from = encoderDecoder || virtualTokens > 0 ? 0 : 1;
        long count = 0;
        for (int b = 0; b < batch; b++)
            for (int t = from; t < length; t++)
                if (Labels.Span[b * length + t] != -100) count++;
        return count;
    }
}
