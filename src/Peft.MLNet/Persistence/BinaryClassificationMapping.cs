using Microsoft.ML.Transforms;
using Peft.MLNet.Classification;
using Peft.MLNet.Runtime;

namespace Peft.MLNet.Persistence;

/// <summary>
/// The step of a saved binary classifier that runs the model: each row's text and the saved
/// state in; ML.NET's binary columns out: the score (log-odds of true), the probability of true
/// and the predicted label.
/// </summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class BinaryClassificationMapping : CustomMappingFactory<ClassificationMapping.Input, BinaryClassificationMapping.Output>
{
    /// <summary>The contract name saved models refer to (part of the file format: never change it, add a new one).</summary>
    public const string Contract = "Peft.MLNet.BinaryTextClassification.v1";

    /// <summary>Scores one row.</summary>
    public static void Map(ClassificationMapping.Input input, Output output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var runtime = RuntimeCache.GetOrBuild(input.PeftMLNetState, ClassificationMapping.Build);
        Span<float> probabilities = stackalloc float[2];
        runtime.Score(input.PeftMLNetText1.Span, input.PeftMLNetText2.Span, input.PeftMLNetTaskId, probabilities);
        output.PeftMLNetProbability = probabilities[1];
        output.PeftMLNetScore = MathF.Log(probabilities[1]) - MathF.Log(probabilities[0]);
        output.PeftMLNetPredictedBool = probabilities[1] > 0.5f;
    }

    /// <inheritdoc/>
    public override Action<ClassificationMapping.Input, Output> GetMapping() => Map;

    /// <summary>What the step writes.</summary>
    public sealed class Output
    {
        /// <summary>Log-odds of true.</summary>
        public float PeftMLNetScore { get; set; }

        /// <summary>Probability of true.</summary>
        public float PeftMLNetProbability { get; set; }

        /// <summary>Whether true is more likely.</summary>
        public bool PeftMLNetPredictedBool { get; set; }
    }
}
