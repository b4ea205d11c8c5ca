using Microsoft.ML.Transforms;
using Peft.MLNet.Generation;
using Peft.MLNet.Runtime;

namespace Peft.MLNet.Persistence;

/// <summary>The step of a saved generator that runs the model: each row's prompt and the saved state in, the generated text out.</summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class GenerationMapping : CustomMappingFactory<GenerationMapping.Input, GenerationMapping.Output>
{
    /// <summary>The contract name saved models refer to (part of the file format: never change it, add a new one).</summary>
    public const string Contract = "Peft.MLNet.TextGeneration.v1";

    /// <summary>Generates one row.</summary>
    public static void Map(Input input, Output output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var runtime = RuntimeCache.GetOrBuild(input.PeftMLNetState, Build);
        output.PeftMLNetGenerated = runtime.Generate(input.PeftMLNetPrompt.Span, input.PeftMLNetTaskId);
    }

    /// <summary>The runtime of a saved generator's state.</summary>
    /// <exception cref="InvalidDataException">The state is another task's.</exception>
    internal static GenerationRuntime Build(ModelState state) => state.Task == PeftTextGenerationTrainer.TaskName
        ? GenerationRuntime.FromState(state)
        : throw new InvalidDataException($"The saved PEFT state is for task '{state.Task}', not {PeftTextGenerationTrainer.TaskName}.");

    /// <inheritdoc/>
    public override Action<Input, Output> GetMapping() => Map;

    /// <summary>What the step reads.</summary>
    public sealed class Input
    {
        /// <summary>The prompt (or the source text of a sequence-to-sequence model).</summary>
        public ReadOnlyMemory<char> PeftMLNetPrompt { get; set; }

        /// <summary>The row's task (multitask prompt tuning; 0 without a task column).</summary>
        public int PeftMLNetTaskId { get; set; }

        /// <summary>The saved state (the same for every row).</summary>
        public ReadOnlyMemory<char> PeftMLNetState { get; set; }
    }

    /// <summary>What the step writes.</summary>
    public sealed class Output
    {
        /// <summary>The generated text.</summary>
        public string PeftMLNetGenerated { get; set; } = "";
    }
}
