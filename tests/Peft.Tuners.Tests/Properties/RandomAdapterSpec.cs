using CsCheck;
using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// A random adapter of any PEFT method with random settings, whose weights are moved off their
/// init by random noise so that it changes the model's outputs (a fresh LoRA has B = 0, a fresh
/// IA3 scales by 1: either would make any comparison pass without the adapter taking part).
/// </summary>
/// <param name="Method">One of <see cref="Methods"/>.</param>
/// <param name="VirtualTokens">Prompt/prefix/p-tuning/multitask virtual tokens.</param>
/// <param name="Flag">Prefix tuning: projection MLP; p-tuning: LSTM encoder; LoRA: rsLoRA.</param>
/// <param name="EncoderHidden">Prefix projection / p-tuning encoder hidden size.</param>
/// <param name="Tasks">Multitask prompt tuning: tasks.</param>
/// <param name="Rank">LoRA rank; multitask prompt tuning ranks (1 or 2).</param>
/// <param name="Alpha">LoRA alpha.</param>
/// <param name="Bias">LoRA bias mode (0 none, 1 all, 2 lora_only).</param>
/// <param name="TargetMask">LoRA/IA3: which of the block's linear layers are targets (bit i: <see cref="TinyModelSpec.LinearModuleNames"/>' i-th).</param>
/// <param name="FeedforwardMask">IA3: which targets scale their input (feed-forward) instead of their output.</param>
/// <param name="PrefixEverywhere">Prefix tuning on T5: the prefix in front of every attention, not just the decoder's.</param>
/// <param name="Noise">Size of the noise added to every adapter weight.</param>
/// <param name="Seed">Adapter init and noise seed.</param>
internal sealed record RandomAdapterSpec(string Method, int VirtualTokens, bool Flag, int EncoderHidden, int Tasks, int Rank, int Alpha, int Bias,
    int TargetMask, int FeedforwardMask, bool PrefixEverywhere, float Noise, ulong Seed)
{
    public static IReadOnlyList<string> Methods { get; } = ["prompt_tuning", "prefix_tuning", "p_tuning", "multitask_prompt_tuning", "lora", "ia3"];

    public static Gen<RandomAdapterSpec> Generate { get; } =
        Gen.Select(
            Gen.Select(Gen.OneOf<string>([.. Methods]), Gen.Int[1, 4], Gen.Bool, Gen.Int[2, 12], Gen.Int[1, 3], Gen.Int[1, 4], Gen.Int[1, 8]),
            Gen.Select(Gen.Int[0, 2], Gen.Int[1, 127], Gen.Int[0, 127], Gen.Bool, Gen.Single[0.05f, 0.5f], Gen.ULong),
            (a, b) => new RandomAdapterSpec(a.Item1, a.Item2, a.Item3, a.Item4, a.Item5, a.Item6, a.Item7, b.Item1, b.Item2, b.Item3, b.Item4, b.Item5,
                b.Item6));

    /// <summary>The adapter's config on a base of <paramref name="model"/>'s shape (LoRA with <paramref name="loraDropout"/>).</summary>
    public IPeftConfig Config(TinyModelSpec model, float loraDropout = 0f)
    {
        string[] names = model.LinearModuleNames();
        // At least one target: the masks are drawn over 7 bits, T5 and GPT-2 blocks have fewer layers.
        int targetMask = TargetMask & ((1 << names.Length) - 1);
        if (targetMask == 0) targetMask = 1;
        string[] targets = names.Where((_, i) => (targetMask >> i & 1) == 1).ToArray();
        string[] feedforward = names.Where((_, i) => ((targetMask & FeedforwardMask) >> i & 1) == 1).ToArray();
        return Method switch
        {
            "prompt_tuning" => new PromptTuningConfig { NumVirtualTokens = VirtualTokens },
            "prefix_tuning" => new PrefixTuningConfig
            {
                NumVirtualTokens = VirtualTokens, PrefixProjection = Flag, EncoderHiddenSize = EncoderHidden,
                Seq2SeqPrefix = PrefixEverywhere && model.Kind() == ModelFamily.T5 ? Seq2SeqPrefixMode.All : Seq2SeqPrefixMode.Decoder,
            },
            "p_tuning" => new PTuningConfig
            {
                NumVirtualTokens = VirtualTokens, EncoderHiddenSize = EncoderHidden,
                EncoderReparameterizationType = Flag ? PromptEncoderReparameterizationType.Lstm : PromptEncoderReparameterizationType.Mlp,
            },
            "multitask_prompt_tuning" => new MultitaskPromptTuningConfig { NumVirtualTokens = VirtualTokens, NumTasks = Tasks, NumRanks = 1 + Rank % 2 },
            "lora" => new LoraConfig
            {
                R = Rank, LoraAlpha = Alpha, LoraDropout = loraDropout, UseRsLora = Flag, Bias = (LoraBias)Bias,
                TargetModules = TargetModules.FromNames(targets),
                FanInFanOut = model.Kind() == ModelFamily.Gpt2,
            },
            "ia3" => new Ia3Config
            {
                TargetModules = TargetModules.FromNames(targets), FeedforwardModules = TargetModules.FromNames(feedforward),
                FanInFanOut = model.Kind() == ModelFamily.Gpt2,
            },
            _ => throw new InvalidOperationException($"Unknown method {Method}."),
        };
    }

    /// <summary>Adds the adapter to <paramref name="model"/> (active) and moves every one of its weights by uniform noise of ±<see cref="Noise"/>.</summary>
    public IPeftAdapter AddTo(PeftModel model, TinyModelSpec spec, string name = "random", float loraDropout = 0f)
    {
        var adapter = model.AddAdapter(name, Config(spec, loraDropout), Seed);
        var random = new Random(unchecked((int)Seed));
        foreach (Tensor tensor in adapter.Parameters)
        {
            var values = tensor.Span;
            for (int i = 0; i < values.Length; i++) values[i] += Noise * (2 * random.NextSingle() - 1);
        }
        return adapter;
    }

    /// <summary>
    /// Task ids, one per row of <paramref name="rowTasks"/> (any ints, taken modulo the task count),
    /// when the method needs them (multitask prompt tuning), else null.
    /// </summary>
    public IntTensor? TaskIds(int[] rowTasks) =>
        Method == "multitask_prompt_tuning" ? IntTensor.FromArray([.. rowTasks.Select(t => t % Tasks)], rowTasks.Length) : null;
}
