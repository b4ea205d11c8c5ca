using System.Reflection;
using Peft.Tensors.Quantization;
using Peft.Transformers.Configuration;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PTuning;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;

namespace Peft.Tuners.Tests.Contracts;

/// <summary>One PEFT method of the contract table.</summary>
/// <param name="Name">Short id, used in the test case names (e.g. "lora/gpt2/nf4").</param>
/// <param name="Config">
/// A small config of the method for a model family (target modules differ per family). No task
/// type: it is inferred from the base model.
/// </param>
/// <param name="IsWeightAdapter">The method wraps linear layers (LoRA, IA3), so it can be merged into the base weights.</param>
/// <param name="NeedsTaskIds">Every row needs a task id (multitask prompt tuning).</param>
public sealed record MethodEntry(string Name, Func<ModelFamily, IPeftConfig> Config, bool IsWeightAdapter = false, bool NeedsTaskIds = false)
{
    public override string ToString() => Name;
}

/// <summary>One cell of the table: a method on a family's fixture base, loaded with a quantization.</summary>
public sealed record ContractCase(MethodEntry Method, ModelFamily Family, QuantizationFormat Quantization)
{
    /// <summary>"method/family/quantization", e.g. "prefix_tuning_proj/llama/int8".</summary>
    public string Id => $"{Method.Name}/{MethodMatrix.FamilyName(Family)}/{MethodMatrix.QuantizationName(Quantization)}";

    /// <summary>The method's config for this family.</summary>
    public IPeftConfig Config() => Method.Config(Family);

    public override string ToString() => Id;
}

/// <summary>
/// Every PEFT method × model family × quantization of the base: the table the contract tests
/// (<see cref="AdapterContractTests"/>) run over. Adding a method means adding one entry to
/// <see cref="Methods"/>; every contract then covers it on every family and quantization.
/// </summary>
/// <remarks>
/// No cell is left out: HF PEFT 0.13 allows every one of these methods on decoder-only
/// (CAUSAL_LM) and encoder-decoder (SEQ_2_SEQ_LM) models (prefix tuning on llama's grouped-query
/// attention included: PEFT sizes the prefix by the key/value heads), and every method trains on
/// an int8, NF4 or BF16 base (only merging into a quantized or 16-bit base is refused, which the merge contract
/// checks). The fixtures' hf README lists no HF fixture for multitask prompt tuning on llama/t5,
/// but that is a gap in the reference outputs, not a combination HF forbids.
/// </remarks>
public static class MethodMatrix
{
    /// <summary>The methods, each with a small config per family.</summary>
    public static IReadOnlyList<MethodEntry> Methods { get; } =
    [
        new("prompt_tuning", _ => new PromptTuningConfig { NumVirtualTokens = 3 }),
        new("prefix_tuning", _ => new PrefixTuningConfig { NumVirtualTokens = 3 }),
        new("prefix_tuning_proj", _ => new PrefixTuningConfig { NumVirtualTokens = 3, PrefixProjection = true, EncoderHiddenSize = 8 }),
        new("p_tuning", _ => new PTuningConfig { NumVirtualTokens = 3, EncoderReparameterizationType = PromptEncoderReparameterizationType.Mlp,
            EncoderHiddenSize = 8 }),
        new("multitask_prompt_tuning", _ => new MultitaskPromptTuningConfig { NumVirtualTokens = 3, NumTasks = 2, NumRanks = 1 }, NeedsTaskIds: true),
        new("lora", family => new LoraConfig
        {
            R = 2,
            LoraAlpha = 4,
            // Every linear layer of the blocks (attention and feed-forward).
            TargetModules = family switch
            {
                ModelFamily.Gpt2 => TargetModules.FromNames("c_attn", "c_proj", "c_fc"),
                ModelFamily.Llama => TargetModules.FromNames("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                ModelFamily.T5 => TargetModules.FromNames("q", "k", "v", "o", "wi", "wo"),
                _ => throw new ArgumentOutOfRangeException(nameof(family), family, null),
            },
            FanInFanOut = family == ModelFamily.Gpt2,
        }, IsWeightAdapter: true),
        // HF PEFT's default IA3 targets per family (TRANSFORMERS_MODELS_TO_IA3_*_MAPPING).
        new("ia3", family => family switch
        {
            ModelFamily.Gpt2 => new Ia3Config { TargetModules = TargetModules.FromNames("c_attn", "mlp.c_proj"),
                FeedforwardModules = TargetModules.FromNames("mlp.c_proj"), FanInFanOut = true },
            ModelFamily.Llama => new Ia3Config { TargetModules = TargetModules.FromNames("k_proj", "v_proj", "down_proj"),
                FeedforwardModules = TargetModules.FromNames("down_proj") },
            ModelFamily.T5 => new Ia3Config { TargetModules = TargetModules.FromNames("k", "v", "wo"), FeedforwardModules = TargetModules.FromNames("wo") },
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, null),
        }, IsWeightAdapter: true),
    ];

    /// <summary>The families, each with a tiny fixture base (hf/&lt;family&gt;_base/base).</summary>
    public static IReadOnlyList<ModelFamily> Families { get; } = [ModelFamily.Gpt2, ModelFamily.Llama, ModelFamily.T5];

    /// <summary>How the base is loaded: float, or its linear layers quantized (or rounded to 16-bit BF16) on load.</summary>
    public static IReadOnlyList<QuantizationFormat> Quantizations { get; } =
        [QuantizationFormat.None, QuantizationFormat.Int8, QuantizationFormat.Nf4, QuantizationFormat.BFloat16];

    /// <summary>Every cell: methods × families × quantizations.</summary>
    public static IReadOnlyList<ContractCase> Cases { get; } =
        (from m in Methods from f in Families from q in Quantizations select new ContractCase(m, f, q)).ToArray();

    /// <summary>The cell named <paramref name="id"/> (see <see cref="ContractCase.Id"/>).</summary>
    public static ContractCase Find(string id) =>
        Cases.SingleOrDefault(c => c.Id == id) ?? throw new KeyNotFoundException($"No contract case '{id}'.");

    /// <summary>[DynamicData] source: every cell, by id.</summary>
    public static IEnumerable<object[]> AllCases => Cases.Select(c => new object[] { c.Id });

    /// <summary>[DynamicData] source: the cells of weight adapters (the ones that can be merged, or are refused on a quantized base).</summary>
    public static IEnumerable<object[]> WeightAdapterCases => Cases.Where(c => c.Method.IsWeightAdapter).Select(c => new object[] { c.Id });

    /// <summary>[DynamicData] display name: the contract and the cell, e.g. "SaveThenLoad… (lora/t5/nf4)".</summary>
    public static string DisplayName(MethodInfo method, object[] data) => $"{method.Name} ({data[0]})";

    public static string FamilyName(ModelFamily family) => family.ToString().ToLowerInvariant();

    public static string QuantizationName(QuantizationFormat format) => format.ToString().ToLowerInvariant();
}
