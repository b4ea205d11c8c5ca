using Microsoft.ML;

namespace Peft.MLNet.Persistence;

/// <summary>
/// How a saved chain gives its mapping each row's task id: the state-key step writes task 0 for
/// every row, and a pipeline's own task column, when it names one, is copied over it.
/// </summary>
internal static class TaskIds
{
    /// <summary><paramref name="inputs"/>, then the copy of <paramref name="taskColumn"/> onto the mapping's task column (nothing when null).</summary>
    public static IEstimator<ITransformer> Append(MLContext context, IEstimator<ITransformer> inputs, string? taskColumn) =>
        taskColumn is null ? inputs : inputs.Append(context.Transforms.CopyColumns(StateKeyMapping.TaskColumn, taskColumn));
}
