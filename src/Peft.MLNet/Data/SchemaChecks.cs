using Microsoft.ML;
using Microsoft.ML.Data;

namespace Peft.MLNet.Data;

/// <summary>
/// Checks of an input schema against what a component reads, failing as ML.NET's own components
/// do (<see cref="ArgumentOutOfRangeException"/> on the schema, naming the column, the type seen
/// and the type expected).
/// </summary>
internal static class SchemaChecks
{
    /// <summary>The text column <paramref name="name"/>.</summary>
    /// <param name="schema">The input schema.</param>
    /// <param name="name">The column's name.</param>
    /// <param name="role">What the column is for (e.g. "sentence 1"), for the message.</param>
    public static DataViewSchema.Column RequireText(DataViewSchema schema, string name, string role)
    {
        var column = Require(schema, name, role, "String");
        if (column.Type is not TextDataViewType)
            throw Mismatch(name, role, "String", column.Type);
        return column;
    }

    /// <summary>The Int32 task id column <paramref name="name"/> (multitask prompt tuning).</summary>
    public static DataViewSchema.Column RequireTaskId(DataViewSchema schema, string name)
    {
        var column = Require(schema, name, "task id", "Int32");
        if (column.Type != NumberDataViewType.Int32) throw Mismatch(name, "task id", "Int32", column.Type);
        return column;
    }

    /// <summary>
    /// Checks that a model whose adapter needs task ids (multitask prompt tuning) has a task column,
    /// and that <paramref name="taskColumn"/>, when set, is an Int32 column of <paramref name="schema"/>.
    /// </summary>
    public static void RequireTaskIdsWhereNeeded(DataViewSchema schema, string? taskColumn, bool needed)
    {
        if (taskColumn is not null) RequireTaskId(schema, taskColumn);
        else if (needed)
            throw new ArgumentOutOfRangeException(nameof(taskColumn),
                "Multitask prompt tuning reads each row's task: set TaskIdColumnName to an Int32 column of task ids (0-based, below num_tasks).");
    }

    /// <summary>The key-typed label column <paramref name="name"/>, its class count and class names (key values, or "0", "1", … without them).</summary>
    public static (DataViewSchema.Column Column, string[] ClassNames) RequireKeyLabel(DataViewSchema schema, string name)
    {
        var column = Require(schema, name, "label", "Key");
        if (column.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Schema mismatch for label column '{name}': expected Key<UInt32>, got {column.Type}. " +
                $"Convert it with mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") before the trainer.");
        if (key.Count < 2 || key.Count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Label column '{name}' has {key.Count} classes; a classifier needs at least 2.");
        int classes = (int)key.Count;
        var names = Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (column.HasKeyValues())
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            column.GetKeyValues(ref values);
            var dense = values.DenseValues().Select(v => v.ToString()).ToArray();
            if (dense.Length == classes) names = dense;
        }
        return (column, names);
    }

    /// <summary>The Boolean label column <paramref name="name"/> of a binary classifier.</summary>
    public static DataViewSchema.Column RequireBoolLabel(DataViewSchema schema, string name)
    {
        var column = Require(schema, name, "label", "Boolean");
        if (column.Type != BooleanDataViewType.Instance)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Schema mismatch for label column '{name}': expected Boolean, got {column.Type}. A binary classifier learns true/false labels; " +
                "for labels with names use the multiclass trainer (mlContext.MulticlassClassification.Trainers.PeftTextClassification).");
        return column;
    }

    private static DataViewSchema.Column Require(DataViewSchema schema, string name, string role, string expected)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return schema.GetColumnOrNull(name) is { } column && !column.IsHidden ? column
            : throw new ArgumentOutOfRangeException(nameof(schema),
                $"The input has no column '{name}' ({role}, {expected} expected); " +
                    $"it has {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"))}.");
    }

    private static ArgumentOutOfRangeException Mismatch(string name, string role, string expected, DataViewType seen) =>
        new("schema", $"Schema mismatch for {role} column '{name}': expected {expected}, got {seen}.");
}
