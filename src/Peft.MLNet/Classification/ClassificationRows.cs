using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.Tuners.Training;

namespace Peft.MLNet.Classification;

/// <summary>Reads a classifier's training rows through a cursor: each row's text tokenized as it goes, its label key turned into a class index.</summary>
internal static class ClassificationRows
{
    /// <summary>
    /// The rows of <paramref name="data"/> with a label: a key (class key − 1; key 0, ML.NET's
    /// missing value, is skipped and counted) or a Boolean (true is class 1).
    /// </summary>
    /// <param name="data">The data.</param>
    /// <param name="columns">Which columns to read.</param>
    /// <param name="encode">Tokenizes a row's sentence(s).</param>
    /// <param name="cancellationToken">Checked every row.</param>
    /// <returns>The examples and how many rows had no label.</returns>
    public static (List<TrainingExample> Rows, long Unlabeled) Read(IDataView data, ClassificationColumns columns,
        Func<ReadOnlyMemory<char>, ReadOnlyMemory<char>, IReadOnlyList<int>> encode, CancellationToken cancellationToken)
    {
        var schema = data.Schema;
        var label = schema[columns.Label];
        var sentence1 = schema[columns.Sentence1];
        var sentence2 = columns.Sentence2 is null ? (Microsoft.ML.DataViewSchema.Column?)null : schema[columns.Sentence2];
        var read = sentence2 is { } second ? new[] { label, sentence1, second } : [label, sentence1];
        var rows = new List<TrainingExample>();
        long unlabeled = 0, index = 0;
        using var cursor = data.GetRowCursor(read);
        ValueGetter<uint> getLabel;
        if (label.Type == BooleanDataViewType.Instance)
        {
            var getBool = cursor.GetGetter<bool>(label);
            bool flag = false;
            // true -> key 2 (class 1), false -> key 1 (class 0), as if the Boolean were a two-valued key.
            getLabel = (ref uint value) =>
            {
                getBool(ref flag);
                value = flag ? 2u : 1u;
            };
        }
        else getLabel = cursor.GetGetter<uint>(label);
        var getText1 = cursor.GetGetter<ReadOnlyMemory<char>>(sentence1);
        var getText2 = sentence2 is { } s2 ? cursor.GetGetter<ReadOnlyMemory<char>>(s2) : null;
        uint key = 0;
        ReadOnlyMemory<char> text1 = default, text2 = default;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            getLabel(ref key);
            if (key == 0)
            {
                unlabeled++;
                index++;
                continue;
            }
            getText1(ref text1);
            getText2?.Invoke(ref text2);
            IReadOnlyList<int> ids;
            try
            {
                ids = encode(text1, text2);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"Row {index} of the data: {ex.Message}", ex);
            }
            rows.Add(new TrainingExample(ids, [(int)key - 1]));
            index++;
        }
        return (rows, unlabeled);
    }
}
