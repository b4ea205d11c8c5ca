using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Classification;

namespace Peft.MLNet.Persistence;

/// <summary>
/// The chain of ML.NET's own transforms a fitted classifier is made of, so that
/// <c>Model.Save</c>/<c>Model.Load</c> keep it with public API only: the text columns copied to
/// the names the mapping reads, a constant key mapped to the saved state (ML.NET's value mapping
/// stores the string), the mapping that runs the model, the score chunks concatenated into the
/// Score vector, the predicted class name turned into a key with the label's names, and the
/// helper columns dropped. The fitted transformer runs this same chain, so what runs before
/// saving is what runs after loading.
/// </summary>
internal static class ClassificationChain
{
    private const string Text1 = nameof(ClassificationMapping.Input.PeftMLNetText1);
    private const string Text2 = nameof(ClassificationMapping.Input.PeftMLNetText2);
    private const string State = nameof(ClassificationMapping.Input.PeftMLNetState);
    private const string Predicted = nameof(ClassificationMapping.Output.PeftMLNetPredicted);

    /// <summary>The chain's estimator for a state and class names (placeholders give the output schema before a fit).</summary>
    public static IEstimator<ITransformer> Estimator(MLContext context, ClassificationColumns columns, string state, IReadOnlyList<string> classNames)
    {
        var names = context.Data.LoadFromEnumerable(classNames.Select(n => new ClassNameRow { Name = n }));
        return Inputs(context, columns, state)
            .Append(context.Transforms.CustomMapping<ClassificationMapping.Input, ClassificationMapping.Output>(
                ClassificationMapping.Map, ClassificationMapping.Contract))
            .Append(context.Transforms.Concatenate(columns.Score, ScoreChunks.ColumnsFor(classNames.Count)))
            .Append(context.Transforms.Conversion.MapValueToKey(columns.PredictedLabel, Predicted, keyData: names))
            .Append(context.Transforms.DropColumns(
                [Text1, Text2, StateKeyMapping.Column, StateKeyMapping.TaskColumn, State, Predicted, .. ScoreChunks.AllColumns]));
    }

    /// <summary>
    /// The binary classifier's chain: the same start, then ML.NET's binary columns (Score as
    /// log-odds, Probability, PredictedLabel as Boolean) copied to their names.
    /// </summary>
    public static IEstimator<ITransformer> BinaryEstimator(MLContext context, ClassificationColumns columns, string state, string probabilityColumn)
    {
        const string score = nameof(BinaryClassificationMapping.Output.PeftMLNetScore);
        const string probability = nameof(BinaryClassificationMapping.Output.PeftMLNetProbability);
        const string predicted = nameof(BinaryClassificationMapping.Output.PeftMLNetPredictedBool);
        return Inputs(context, columns, state)
            .Append(context.Transforms.CustomMapping<ClassificationMapping.Input, BinaryClassificationMapping.Output>(
                BinaryClassificationMapping.Map, BinaryClassificationMapping.Contract))
            .Append(context.Transforms.CopyColumns(columns.Score, score))
            .Append(context.Transforms.CopyColumns(probabilityColumn, probability))
            .Append(context.Transforms.CopyColumns(columns.PredictedLabel, predicted))
            .Append(context.Transforms.DropColumns(Text1, Text2, StateKeyMapping.Column, StateKeyMapping.TaskColumn, State, score, probability, predicted));
    }

    /// <summary>The text columns under the mapping's names, the state beside them, and the task column when there is one.</summary>
    private static IEstimator<ITransformer> Inputs(MLContext context, ClassificationColumns columns, string state)
    {
        var inputs = context.Transforms.CopyColumns(Text1, columns.Sentence1)
            .Append(context.Transforms.CopyColumns(Text2, columns.Sentence2 ?? columns.Sentence1))
            .Append(context.Transforms.CustomMapping<StateKeyMapping.NoInput, StateKeyMapping.KeyRow>(StateKeyMapping.Map, StateKeyMapping.Contract))
            .Append(context.Transforms.Conversion.MapValue(State, [new KeyValuePair<string, string>(StateKeyMapping.Key, state)], StateKeyMapping.Column));
        return TaskIds.Append(context, inputs, columns.TaskId);
    }

    /// <summary>One class name (the key data of the predicted label).</summary>
    private sealed class ClassNameRow
    {
        public string Name { get; set; } = "";
    }
}
