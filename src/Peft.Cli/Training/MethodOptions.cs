using System.CommandLine;
using Peft.Transformers.Configuration;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.Cli.Training;

/// <summary>
/// <c>--method</c> and the methods' settings under HF PEFT's names in kebab case
/// (<c>num_virtual_tokens</c> → <c>--num-virtual-tokens</c>), turned into the method's config.
/// </summary>
internal sealed class MethodOptions
{
    public static readonly string[] Methods = ["prompt", "prefix", "ptuning", "multitask", "lora", "ia3"];

    public Option<string> Method { get; } = new Option<string>("--method") { Description = "PEFT method (required)", HelpName = string.Join("|", Methods) }
        .AcceptOnlyFromAmong(Methods);

    public Option<int> NumVirtualTokens { get; } = CliOptions.Int("--num-virtual-tokens", "prompt, prefix, ptuning, multitask: virtual tokens", 8);

    public Option<string> PromptTuningInitText { get; } = new("--prompt-tuning-init-text") { Description = "prompt: initialize from this text's embeddings", HelpName = "TEXT" };

    public Option<bool> PrefixProjection { get; } = new("--prefix-projection") { Description = "prefix: reparameterize through an MLP" };

    public Option<int?> EncoderHiddenSize { get; } = CliOptions.OptionalInt("--encoder-hidden-size", "prefix (with projection), ptuning: the encoder's hidden size (default: the model's)");

    public Option<string> EncoderReparameterizationType { get; } = new Option<string>("--encoder-reparameterization-type")
    {
        Description = "ptuning: the prompt encoder",
        HelpName = "MLP|LSTM",
        DefaultValueFactory = _ => "MLP",
    }.AcceptOnlyFromAmong("MLP", "LSTM");

    public Option<int> NumTasks { get; } = CliOptions.Int("--num-tasks", "multitask: number of tasks (rows give \"task_id\")", 1);

    public Option<int> NumRanks { get; } = CliOptions.Int("--num-ranks", "multitask: rank of the task prompts", 1);

    public Option<int> R { get; } = CliOptions.Int("--r", "lora: rank", 8);

    public Option<float> LoraAlpha { get; } = CliOptions.Float("--lora-alpha", "lora: scaling numerator (scaling = alpha / r)", 8f);

    public Option<float> LoraDropout { get; } = CliOptions.Float("--lora-dropout", "lora: dropout on the adapter's input", 0f);

    public Option<bool> UseRsLora { get; } = new("--use-rslora") { Description = "lora: scaling = alpha / sqrt(r)" };

    public Option<string> TargetModules { get; } = new("--target-modules") { Description = "lora, ia3: comma list of module names (default: HF PEFT's for the model family)", HelpName = "a,b" };

    public Option<string> FeedforwardModules { get; } = new("--feedforward-modules") { Description = "ia3: comma list of the targets whose input is scaled (default: HF PEFT's)", HelpName = "a,b" };

    public IEnumerable<Option> All =>
    [
        Method, NumVirtualTokens, PromptTuningInitText, PrefixProjection, EncoderHiddenSize, EncoderReparameterizationType, NumTasks, NumRanks,
        R, LoraAlpha, LoraDropout, UseRsLora, TargetModules, FeedforwardModules,
    ];

    /// <summary>The config the command line describes for a model of <paramref name="family"/>.</summary>
    public IPeftConfig Config(ParseResult result, ModelFamily family)
    {
        string method = result.GetValue(Method) ?? throw new UsageException("train: missing required option --method.");
        int tokens = result.GetValue(NumVirtualTokens);
        int? hidden = result.GetValue(EncoderHiddenSize);
        bool gpt2 = family == ModelFamily.Gpt2;
        return method switch
        {
            "prompt" => result.GetValue(PromptTuningInitText) is { } text
                ? new PromptTuningConfig { NumVirtualTokens = tokens, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = text }
                : new PromptTuningConfig { NumVirtualTokens = tokens },
            "prefix" => new PrefixTuningConfig { NumVirtualTokens = tokens, PrefixProjection = result.GetValue(PrefixProjection), EncoderHiddenSize = hidden },
            "ptuning" => new PTuningConfig
            {
                NumVirtualTokens = tokens,
                EncoderHiddenSize = hidden,
                EncoderReparameterizationType = result.GetValue(EncoderReparameterizationType) == "LSTM"
                    ? PromptEncoderReparameterizationType.Lstm : PromptEncoderReparameterizationType.Mlp,
            },
            "multitask" => new MultitaskPromptTuningConfig { NumVirtualTokens = tokens, NumTasks = result.GetValue(NumTasks), NumRanks = result.GetValue(NumRanks) },
            "lora" => new LoraConfig
            {
                R = result.GetValue(R),
                LoraAlpha = result.GetValue(LoraAlpha),
                LoraDropout = result.GetValue(LoraDropout),
                UseRsLora = result.GetValue(UseRsLora),
                TargetModules = Names(result.GetValue(TargetModules)) ?? LoraTargetDefaults.For(family),
                FanInFanOut = gpt2,
            },
            _ => Ia3(result, family),
        };
    }

    // HF PEFT's TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING / ..._FEEDFORWARD_MODULES_MAPPING for the families here.
    private Ia3Config Ia3(ParseResult result, ModelFamily family)
    {
        var (targets, feedforward) = family switch
        {
            ModelFamily.Gpt2 => (new[] { "c_attn", "mlp.c_proj" }, new[] { "mlp.c_proj" }),
            ModelFamily.T5 => (["k", "v", "wo"], ["wo"]),
            _ => (["k_proj", "v_proj", "down_proj"], ["down_proj"]),
        };
        var chosenTargets = Names(result.GetValue(TargetModules)) ?? Tuners.Adapters.TargetModules.FromNames(targets);
        var chosenFeedforward = Names(result.GetValue(FeedforwardModules))
            ?? (result.GetValue(TargetModules) is null ? Tuners.Adapters.TargetModules.FromNames(feedforward) : Tuners.Adapters.TargetModules.FromNames());
        return new Ia3Config { TargetModules = chosenTargets, FeedforwardModules = chosenFeedforward, FanInFanOut = family == ModelFamily.Gpt2 };
    }

    private static TargetModules? Names(string? list)
    {
        if (list is null) return null;
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return names.Length == 0 ? throw new UsageException("train: --target-modules/--feedforward-modules need at least one module name.")
            : Tuners.Adapters.TargetModules.FromNames(names);
    }
}
