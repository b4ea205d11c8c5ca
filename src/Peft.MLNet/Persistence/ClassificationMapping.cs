using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Peft.MLNet.Classification;
using Peft.MLNet.Runtime;

namespace Peft.MLNet.Persistence;

/// <summary>
/// The step of a saved classifier that runs the model: each row's text (and second sentence) and
/// the saved state in; the predicted class name and the class probabilities, in
/// <see cref="ScoreChunks"/>, out.
/// </summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class ClassificationMapping : CustomMappingFactory<ClassificationMapping.Input, ClassificationMapping.Output>
{
    /// <summary>The contract name saved models refer to (part of the file format: never change it, add a new one).</summary>
    public const string Contract = "Peft.MLNet.TextClassification.v1";

    /// <summary>Scores one row.</summary>
    public static void Map(Input input, Output output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var runtime = RuntimeCache.GetOrBuild(input.PeftMLNetState, Build);
        int classes = runtime.Settings.ClassNames.Count;
        var probabilities = new float[classes];
        runtime.Score(input.PeftMLNetText1.Span, input.PeftMLNetText2.Span, input.PeftMLNetTaskId, probabilities);
        int best = 0;
        for (int i = 1; i < classes; i++)
            if (probabilities[i] > probabilities[best]) best = i;
        output.PeftMLNetPredicted = runtime.Settings.ClassNames[best];
        output.Fill(probabilities);
    }

    /// <inheritdoc/>
    public override Action<Input, Output> GetMapping() => Map;

    /// <summary>A classifier's runtime from its saved state.</summary>
    internal static ClassifierRuntime Build(ModelState state) => state.Task == PeftTextClassificationTrainer.TaskName
        ? ClassifierRuntime.FromState(state)
        : throw new InvalidDataException($"The saved PEFT state is for task '{state.Task}', not {PeftTextClassificationTrainer.TaskName}.");

    /// <summary>What the step reads.</summary>
    public sealed class Input
    {
        /// <summary>The row's task (multitask prompt tuning; 0 without a task column).</summary>
        public int PeftMLNetTaskId { get; set; }

        /// <summary>The first sentence.</summary>
        public ReadOnlyMemory<char> PeftMLNetText1 { get; set; }

        /// <summary>The second sentence (ignored unless the model was fitted on pairs).</summary>
        public ReadOnlyMemory<char> PeftMLNetText2 { get; set; }

        /// <summary>The saved state (the same for every row).</summary>
        public ReadOnlyMemory<char> PeftMLNetState { get; set; }
    }

    /// <summary>What the step writes.</summary>
    public sealed class Output
    {
        /// <summary>The predicted class's name.</summary>
        public string PeftMLNetPredicted { get; set; } = "";

        /// <summary>Scores chunk of 512.</summary>
        [VectorType(512)]
        public float[] PeftMLNetScores512 { get; set; } = new float[512];

        /// <summary>Scores chunk of 256.</summary>
        [VectorType(256)]
        public float[] PeftMLNetScores256 { get; set; } = new float[256];

        /// <summary>Scores chunk of 128.</summary>
        [VectorType(128)]
        public float[] PeftMLNetScores128 { get; set; } = new float[128];

        /// <summary>Scores chunk of 64.</summary>
        [VectorType(64)]
        public float[] PeftMLNetScores64 { get; set; } = new float[64];

        /// <summary>Scores chunk of 32.</summary>
        [VectorType(32)]
        public float[] PeftMLNetScores32 { get; set; } = new float[32];

        /// <summary>Scores chunk of 16.</summary>
        [VectorType(16)]
        public float[] PeftMLNetScores16 { get; set; } = new float[16];

        /// <summary>Scores chunk of 8.</summary>
        [VectorType(8)]
        public float[] PeftMLNetScores8 { get; set; } = new float[8];

        /// <summary>Scores chunk of 4.</summary>
        [VectorType(4)]
        public float[] PeftMLNetScores4 { get; set; } = new float[4];

        /// <summary>Scores chunk of 2.</summary>
        [VectorType(2)]
        public float[] PeftMLNetScores2 { get; set; } = new float[2];

        /// <summary>Scores chunk of 1.</summary>
        public float PeftMLNetScores1 { get; set; }

        /// <summary>Lays <paramref name="scores"/> out over the chunks <see cref="ScoreChunks.ColumnsFor"/> names, largest first.</summary>
        public void Fill(ReadOnlySpan<float> scores)
        {
            int at = 0;
            foreach (int size in ScoreChunks.Sizes)
            {
                if ((scores.Length & size) == 0) continue;
                if (size == 1) PeftMLNetScores1 = scores[at];
                else scores.Slice(at, size).CopyTo(Chunk(size));
                at += size;
            }
        }

        private float[] Chunk(int size) => size switch
        {
            512 => PeftMLNetScores512,
            256 => PeftMLNetScores256,
            128 => PeftMLNetScores128,
            64 => PeftMLNetScores64,
            32 => PeftMLNetScores32,
            16 => PeftMLNetScores16,
            8 => PeftMLNetScores8,
            4 => PeftMLNetScores4,
            _ => PeftMLNetScores2,
        };
    }
}
