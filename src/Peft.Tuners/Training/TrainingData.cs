using Peft.Tensors;

namespace Peft.Tuners.Training;

/// <summary>
/// Rows as the <see cref="Trainer"/> reads them: a count known before training (it fixes the step
/// count and the learning-rate schedule) and one pass per epoch in an order its seed fixes.
/// Derive from it to stream rows from a file, a database or an ML.NET IDataView without holding
/// them all; <see cref="FromList"/> wraps rows already in memory.
/// </summary>
public abstract class TrainingData
{
    /// <summary>Rows per pass.</summary>
    public abstract int Count { get; }

    /// <summary>
    /// One pass over the rows: exactly <see cref="Count"/> of them, each with its position in the
    /// source. With <paramref name="shuffleSeed"/> null, in source order; otherwise in an order that
    /// seed fixes (the same seed gives the same order, so a resumed run sees the same batches).
    /// </summary>
    /// <param name="shuffleSeed">The pass's shuffle seed, or null for source order.</param>
    /// <param name="cancellationToken">Checked while reading.</param>
    public abstract IEnumerable<IndexedExample> Read(ulong? shuffleSeed, CancellationToken cancellationToken = default);

    /// <summary>Rows held in memory; a shuffled pass is a Fisher-Yates permutation of all of them.</summary>
    public static TrainingData FromList(IReadOnlyList<TrainingExample> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new ListData(rows);
    }

    private sealed class ListData(IReadOnlyList<TrainingExample> rows) : TrainingData
    {
        public override int Count => rows.Count;

        public override IEnumerable<IndexedExample> Read(ulong? shuffleSeed, CancellationToken cancellationToken = default)
        {
            var order = Enumerable.Range(0, rows.Count).ToArray();
            if (shuffleSeed is ulong seed)
            {
                var random = new SeededRandom(seed);
                for (int i = order.Length - 1; i > 0; i--)
                {
                    int j = random.NextInt(i + 1);
                    (order[i], order[j]) = (order[j], order[i]);
                }
            }
            foreach (int index in order) yield return new IndexedExample(index, rows[index]);
        }
    }
}
