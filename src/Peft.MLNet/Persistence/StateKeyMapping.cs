using Microsoft.ML.Transforms;

namespace Peft.MLNet.Persistence;

/// <summary>Every row's key of the saved state: a constant the value mapping after it turns into the state string.</summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class StateKeyMapping : CustomMappingFactory<StateKeyMapping.NoInput, StateKeyMapping.KeyRow>
{
    /// <summary>The contract name saved models refer to (part of the file format: never change it, add a new one).</summary>
    public const string Contract = "Peft.MLNet.StateKey.v1";

    /// <summary>The constant key.</summary>
    public const string Key = "peft";

    /// <summary>The column it writes.</summary>
    public const string Column = nameof(KeyRow.PeftMLNetStateKey);

    /// <summary>The task id column the mappings read; this step writes 0 and a pipeline's task column, copied over it, replaces it.</summary>
    public const string TaskColumn = nameof(KeyRow.PeftMLNetTaskId);

    /// <summary>Writes the key.</summary>
    public static void Map(NoInput input, KeyRow output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.PeftMLNetStateKey = Key;
        output.PeftMLNetTaskId = 0;
    }

    /// <inheritdoc/>
    public override Action<NoInput, KeyRow> GetMapping() => Map;

    /// <summary>Reads no column.</summary>
    public sealed class NoInput
    {
    }

    /// <summary>The key column.</summary>
    public sealed class KeyRow
    {
        /// <summary>Always <see cref="Key"/>.</summary>
        public string PeftMLNetStateKey { get; set; } = Key;

        /// <summary>Task 0, for pipelines without a task column.</summary>
        public int PeftMLNetTaskId { get; set; }
    }
}
