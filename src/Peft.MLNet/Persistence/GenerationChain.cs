using Microsoft.ML;
using Peft.MLNet.Generation;

namespace Peft.MLNet.Persistence;

/// <summary>
/// The chain of ML.NET's own transforms a fitted generator is made of (as
/// <see cref="ClassificationChain"/>): the prompt copied to the name the mapping reads, the state
/// carried by a value mapping, the mapping that generates, its text copied to the output column,
/// the helper columns dropped.
/// </summary>
internal static class GenerationChain
{
    private const string Prompt = nameof(GenerationMapping.Input.PeftMLNetPrompt);
    private const string State = nameof(GenerationMapping.Input.PeftMLNetState);
    private const string Generated = nameof(GenerationMapping.Output.PeftMLNetGenerated);

    /// <summary>The chain's estimator for a state (a placeholder gives the output schema before a fit).</summary>
    public static IEstimator<ITransformer> Estimator(MLContext context, GenerationColumns columns, string state)
    {
        var inputs = context.Transforms.CopyColumns(Prompt, columns.Prompt)
            .Append(context.Transforms.CustomMapping<StateKeyMapping.NoInput, StateKeyMapping.KeyRow>(StateKeyMapping.Map, StateKeyMapping.Contract))
            .Append(context.Transforms.Conversion.MapValue(State, [new KeyValuePair<string, string>(StateKeyMapping.Key, state)], StateKeyMapping.Column));
        return TaskIds.Append(context, inputs, columns.TaskId)
            .Append(context.Transforms.CustomMapping<GenerationMapping.Input, GenerationMapping.Output>(GenerationMapping.Map, GenerationMapping.Contract))
            .Append(context.Transforms.CopyColumns(columns.Output, Generated))
            .Append(context.Transforms.DropColumns(Prompt, StateKeyMapping.Column, StateKeyMapping.TaskColumn, State, Generated));
    }
}
