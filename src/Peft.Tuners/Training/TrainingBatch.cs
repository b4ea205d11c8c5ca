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
    /// <exception cref="ArgumentException">
    /// An empty row, an id outside the vocabulary, labels of the wrong length, or a missing task
    /// id; the message names the row.
    /// </exception>
    /// <param name="rows">The rows of this batch, each with its number in the data (for messages).</param>
    /// <param name="encoderDecoder">Labels are target ids of their own length.</param>
    /// <param name="padId">Input padding id.</param>
    /// <param name="maxLength">Row length limit, or null.</param>
    /// <param name="vocabSize">Ids must be below this.</param>
    /// <param name="needsTaskIds">Every row must have a task id.</param>
    /// <param name="dataName">"training" or "evaluation", for messages.</param>
    /// <param name="classes">For a classifier: the number of classes (each row has one label); else null.</param>
    public static TrainingBatch Collate(IReadOnlyList<IndexedExample> rows, bool encoderDecoder, int padId, int? maxLength,
        int vocabSize, bool needsTaskIds, string dataName, int? classes = null)
    {
        if (classes is int classCount) return CollateClasses(rows, padId, maxLength, vocabSize, needsTaskIds, dataName, classCount);
        int batch = rows.Count;
        int length = 0, labelLength = 0, tokens = 0;
        foreach (var (index, row) in rows)
        {
            if (row is null) throw new ArgumentException($"{dataName} row {index} is null.");
            if (row.InputIds is null || row.InputIds.Count == 0) throw new ArgumentException($"{dataName} row {index} has no input ids.");
            int n = Cut(row.InputIds.Count, maxLength);
            length = Math.Max(length, n);
            tokens += n;
            if (encoderDecoder)
            {
                if (row.Labels is null || row.Labels.Count == 0)
                    throw new ArgumentException($"{dataName} row {index} has no labels; an encoder-decoder model trains on target ids.");
                labelLength = Math.Max(labelLength, Cut(row.Labels.Count, maxLength));
            }
            else if (row.Labels is not null && row.Labels.Count != row.InputIds.Count)
                throw new ArgumentException($"{dataName} row {index} has {row.Labels.Count} labels for {row.InputIds.Count} input ids; " +
                    "a causal model needs one label per input position (-100 where no loss is wanted).");
            if (needsTaskIds && row.TaskId is null)
                throw new ArgumentException($"{dataName} row {index} has no task id, which the multitask prompt tuning adapter needs.");
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
            var (index, row) = rows[b];
            int n = Cut(row.InputIds.Count, maxLength);
            for (int t = 0; t < n; t++)
            {
                int id = row.InputIds[t];
                if ((uint)id >= (uint)vocabSize)
                    throw new ArgumentException($"{dataName} row {index}: input id {id} at position {t} is outside the model's vocabulary of {vocabSize}.");
                ids.Span[b * length + t] = id;
                mask.Span[b * length + t] = 1;
            }
            var source = row.Labels ?? row.InputIds;
            int m = Cut(source.Count, maxLength);
            for (int t = 0; t < m; t++)
            {
                int label = source[t];
                if (label != -100 && (uint)label >= (uint)vocabSize)
                    throw new ArgumentException($"{dataName} row {index}: label {label} at position {t} is outside the model's vocabulary of {vocabSize} " +
                        "(use -100 to skip a position).");
                labels.Span[b * labelLength + t] = label;
            }
            if (taskIds is not null) taskIds.Span[b] = row.TaskId!.Value;
        }
        return new TrainingBatch(ids, mask, labels, taskIds, tokens);
    }

    /// <summary>Rows with one class label each: labels [batch].</summary>
    private static TrainingBatch CollateClasses(IReadOnlyList<IndexedExample> rows, int padId, int? maxLength,
        int vocabSize, bool needsTaskIds, string dataName, int classes)
    {
        var inputs = new List<IndexedExample>(rows.Count);
        var labels = IntTensor.Zeros(new Shape(rows.Count));
        for (int b = 0; b < rows.Count; b++)
        {
            var (index, row) = rows[b];
            if (row is null) throw new ArgumentException($"{dataName} row {index} is null.");
            if (row.Labels is not { Count: 1 })
                throw new ArgumentException(
                    $"{dataName} row {index} needs exactly one label (its class) for a sequence classifier; got {row.Labels?.Count ?? 0}.");
            int label = row.Labels[0];
            if (label != -100 && (uint)label >= (uint)classes)
                throw new ArgumentException($"{dataName} row {index}: class {label} is outside 0..{classes - 1}.");
            labels.Span[b] = label;
            inputs.Add(new IndexedExample(index, row with { Labels = null }));
        }
        var tokens = Collate(inputs, false, padId, maxLength, vocabSize, needsTaskIds, dataName);
        return tokens with { Labels = labels };
    }

    private static int Cut(int count, int? maxLength) => maxLength is int max ? Math.Min(count, max) : count;
}
