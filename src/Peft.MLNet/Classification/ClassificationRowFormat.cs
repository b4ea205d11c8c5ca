using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Data;
using Peft.Tuners.Training;

namespace Peft.MLNet.Classification;

/// <summary>
/// A classifier's training rows: the text (one or two sentences) tokenized, the label a key (class
/// key − 1; key 0, ML.NET's missing value, leaves the row out) or a Boolean (true is class 1).
/// </summary>
/// <param name="columns">Which columns to read.</param>
/// <param name="encode">Tokenizes a row's sentence(s).</param>
internal sealed class ClassificationRowFormat(ClassificationColumns columns, Func<ReadOnlyMemory<char>, ReadOnlyMemory<char>, IReadOnlyList<int>> encode)
    : RowFormat
{
    /// <inheritdoc/>
    public override IReadOnlyList<DataViewSchema.Column> Columns(DataViewSchema schema) =>
    [
        schema[columns.Label], schema[columns.Sentence1],
        .. columns.Sentence2 is { } second ? [schema[second]] : Array.Empty<DataViewSchema.Column>(),
        .. columns.TaskId is { } task ? [schema[task]] : Array.Empty<DataViewSchema.Column>(),
    ];

    /// <inheritdoc/>
    public override IReadOnlyList<DataViewSchema.Column> FilterColumns(DataViewSchema schema) => [schema[columns.Label]];

    /// <inheritdoc/>
    public override Func<bool> Includer(DataViewRowCursor cursor)
    {
        var getKey = KeyGetter(cursor);
        uint key = 0;
        return () =>
        {
            getKey(ref key);
            return key != 0;
        };
    }

    /// <inheritdoc/>
    public override Func<TrainingExample> Reader(DataViewRowCursor cursor)
    {
        var getKey = KeyGetter(cursor);
        var getText1 = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[columns.Sentence1]);
        var getText2 = columns.Sentence2 is { } second ? cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[second]) : null;
        var getTask = columns.TaskId is { } taskColumn ? cursor.GetGetter<int>(cursor.Schema[taskColumn]) : null;
        uint key = 0;
        int task = 0;
        ReadOnlyMemory<char> text1 = default, text2 = default;
        return () =>
        {
            getKey(ref key);
            getText1(ref text1);
            getText2?.Invoke(ref text2);
            getTask?.Invoke(ref task);
            return new TrainingExample(encode(text1, text2), [(int)key - 1], getTask is null ? null : task);
        };
    }

    /// <summary>The label as a key: a Boolean reads as a two-valued key (false 1, true 2).</summary>
    private ValueGetter<uint> KeyGetter(DataViewRowCursor cursor)
    {
        var label = cursor.Schema[columns.Label];
        if (label.Type != BooleanDataViewType.Instance) return cursor.GetGetter<uint>(label);
        var getBool = cursor.GetGetter<bool>(label);
        bool flag = false;
        return (ref uint value) =>
        {
            getBool(ref flag);
            value = flag ? 2u : 1u;
        };
    }
}
