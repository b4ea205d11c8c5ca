using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Models.T5;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;

namespace Peft.Tuners.Tests.Contracts;

/// <summary>
/// One cell of <see cref="MethodMatrix"/> set up: a freshly loaded fixture base (quantized as the
/// cell says), a <see cref="PeftModel"/> over it and the cell's adapter, with a small batch and the
/// runs the contracts compare (logits, greedy generation, loss, a few training steps).
/// </summary>
internal sealed class ContractRig
{
    public const string AdapterName = "contract";

    /// <summary>Seed of every fresh adapter, so a cell always starts from the same weights.</summary>
    public const ulong Seed = 7;

    private ContractRig(ContractCase c, ILanguageModel baseModel, PeftModel model, IPeftAdapter adapter)
    {
        Case = c;
        Base = baseModel;
        Model = model;
        Adapter = adapter;
        bool seq2seq = model.BaseModel.Config.IsEncoderDecoder;
        Labels = seq2seq ? Seq2SeqTargets() : CausalLabels();
        TaskIds = c.Method.NeedsTaskIds ? IntTensor.FromArray([0, 1], 2) : null;
    }

    public ContractCase Case { get; }

    public ILanguageModel Base { get; }

    public PeftModel Model { get; }

    public IPeftAdapter Adapter { get; }

    // Fresh tensors per rig: cases run in parallel, and nothing should depend on inputs staying untouched elsewhere.

    /// <summary>Two rows; the second is left-padded by two (zeros in the mask). Ids avoid every fixture's pad/bos/eos ids.</summary>
    public IntTensor Ids { get; } = IntTensor.FromArray([5, 17, 29, 41, 53, 65, 0, 0, 12, 24, 36, 48], 2, 6);

    public IntTensor Mask { get; } = IntTensor.FromArray([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1], 2, 6);

    /// <summary>Decoder-only labels: the ids, -100 on the padding (shifted inside the loss).</summary>
    private static IntTensor CausalLabels() => IntTensor.FromArray([5, 17, 29, 41, 53, 65, -100, -100, 12, 24, 36, 48], 2, 6);

    /// <summary>Encoder-decoder labels: target ids of their own length (decoder inputs are these shifted right).</summary>
    private static IntTensor Seq2SeqTargets() => IntTensor.FromArray([7, 19, 31, 43, 11, 23, 35, 47], 2, 4);

    /// <summary>The labels for this family (also what the T5 decoder inputs derive from in <see cref="Logits"/>).</summary>
    public IntTensor Labels { get; }

    /// <summary>Task per row for multitask prompt tuning, else null.</summary>
    public IntTensor? TaskIds { get; }

    /// <summary>Greedy, six new tokens, no eos (every row runs to the end).</summary>
    public static GenerationOptions Greedy { get; } = new() { MaxNewTokens = 6, EosTokenIds = [] };

    /// <summary>
    /// Greedy with HF's repetition penalty 2 (still no sampling). The tiny fixtures' gpt2 and t5
    /// mostly predict the token they just read, so plain greedy repeats one token (t5: the start
    /// id 0) and hardly depends on the adapter; penalized, every step's choice depends on the
    /// logits beyond the top one, and after training every cell's adapter changes these tokens.
    /// </summary>
    public static GenerationOptions Penalized { get; } = Greedy with { RepetitionPenalty = 2f };

    /// <summary>
    /// A freshly loaded base of the cell's family with the cell's quantization (frozen; no PeftModel around it), from the
    /// fixture base or from <paramref name="folder"/> (e.g. a 16-bit copy of it).
    /// </summary>
    public static ILanguageModel LoadBase(ContractCase c, string? folder = null)
    {
        folder ??= Fixtures.Hf($"{MethodMatrix.FamilyName(c.Family)}_base", "base");
        var options = new LoadOptions { Quantization = c.Quantization };
        ILanguageModel model = c.Family == Transformers.Configuration.ModelFamily.T5
            ? ModelLoader.LoadSeq2Seq(folder, options)
            : ModelLoader.LoadCausal(folder, options);
        if (c.Quantization != Tensors.Quantization.QuantizationFormat.None)
            Assert.IsTrue(model.LinearLayers.All(l => l.IsQuantized), $"{c}: every linear layer of the base is quantized");
        return model;
    }

    /// <summary>The one place a PeftModel is constructed.</summary>
    private static PeftModel Wrap(ILanguageModel model) => new(model);

    /// <summary>Fresh base + PeftModel + the cell's adapter added fresh (seed <see cref="Seed"/>), trainable and active.</summary>
    public static ContractRig Build(ContractCase c, string? baseFolder = null)
    {
        var baseModel = LoadBase(c, baseFolder);
        var model = Wrap(baseModel);
        var adapter = model.AddAdapter(AdapterName, c.Config(), Seed);
        return new ContractRig(c, baseModel, model, adapter);
    }

    /// <summary>Fresh base + PeftModel + the adapter loaded from <paramref name="folder"/> (frozen, active).</summary>
    public static ContractRig Load(ContractCase c, string folder)
    {
        var baseModel = LoadBase(c);
        var model = Wrap(baseModel);
        var adapter = model.LoadAdapter(folder, AdapterName);
        return new ContractRig(c, baseModel, model, adapter);
    }

    /// <summary>The logits of <see cref="PeftModel.Forward"/> on the batch (T5: decoder inputs from the targets).</summary>
    public float[] Logits()
    {
        using (Autograd.NoGrad())
        using (new TensorScope())
            return Model.Forward(Ids, Mask, Labels, TaskIds).Logits.ToArray();
    }

    /// <summary>The logits of the bare base model <paramref name="bare"/> (no PeftModel) on the same inputs as <see cref="Logits"/>.</summary>
    public float[] BareLogits(ILanguageModel bare)
    {
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            return bare switch
            {
                CausalLanguageModel causal => causal.Forward(inputIds: Ids, attentionMask: Mask).Logits.ToArray(),
                T5Model t5 => t5.Forward(inputIds: Ids, attentionMask: Mask, labels: Labels).Logits.ToArray(),
                _ => throw new ArgumentException($"Unknown base {bare.GetType().Name}.", nameof(bare)),
            };
        }
    }

    /// <summary>The mean loss on the batch, without a gradient.</summary>
    public float Loss()
    {
        using (Autograd.NoGrad())
        using (new TensorScope())
            return Model.Loss(Ids, Labels, Mask, TaskIds).Loss.Item();
    }

    /// <summary>Generation on the batch: causal rows are the left-padded prompt + the new ids, T5 rows the decoder start + the new ids.</summary>
    public int[] Generate(GenerationOptions options)
    {
        var ids = Model.Generate(Ids, Mask, options, TaskIds);
        int expected = (Model.BaseModel.Config.IsEncoderDecoder ? 1 : Ids.Shape[1]) + options.MaxNewTokens;
        Assert.AreEqual(2, ids.Shape[0], $"{Case}: rows generated");
        Assert.AreEqual(expected, ids.Shape[1], $"{Case}: generated length (no eos, so every row runs {options.MaxNewTokens} new tokens)");
        return ids.ToArray();
    }

    /// <summary>
    /// AdamW steps (no weight decay) on the batch's loss over <see cref="PeftModel.TrainableParameters"/>,
    /// so the adapter is away from its init (a fresh LoRA or IA3 changes nothing); returns each step's loss.
    /// </summary>
    public float[] Train(int steps = 5, float learningRate = 0.1f)
    {
        var optimizer = new AdamW(Model.TrainableParameters, learningRate: learningRate, weightDecay: 0f);
        var losses = new float[steps];
        for (int i = 0; i < steps; i++)
        {
            using var scope = new TensorScope();
            optimizer.ZeroGrad();
            var loss = Model.Loss(Ids, Labels, Mask, TaskIds).Loss;
            losses[i] = loss.Item();
            loss.Backward();
            optimizer.Step();
        }
        return losses;
    }

    /// <summary>The logits with adapters disabled for a scope.</summary>
    public float[] DisabledLogits()
    {
        using (Model.DisableAdapters())
            return Logits();
    }

    /// <summary>
    /// Fails unless the adapter changes the model's logits: a contract comparing two runs of an
    /// adapter that does nothing (a fresh LoRA has B = 0, a fresh IA3 scales by 1) could not fail.
    /// </summary>
    public void AssertAdapterChangesLogits()
    {
        var on = Logits();
        var off = DisabledLogits();
        bool differ = on.Length != off.Length || on.Where((v, i) => v != off[i]).Any();
        Assert.IsTrue(differ, $"{Case}: precondition: the trained adapter must change the logits, or the contract checks nothing");
    }

    /// <summary>
    /// Fails unless the adapter changes the tokens <paramref name="options"/> generate: otherwise a
    /// generation path that silently dropped the adapter (as HF's llama prompt-learning cache does)
    /// would give the same tokens and pass.
    /// </summary>
    public void AssertAdapterChangesGeneration(GenerationOptions options)
    {
        var on = Generate(options);
        int[] off;
        using (Model.DisableAdapters()) off = Generate(options);
        Assert.IsFalse(on.SequenceEqual(off),
            $"{Case}: precondition: the trained adapter must change the generated tokens [{string.Join(", ", on)}], or dropping it would go unnoticed");
    }
}

/// <summary>Array comparisons that say where and by how much two runs differ.</summary>
internal static class Same
{
    /// <summary>Bit-for-bit equal floats.</summary>
    public static void Floats(float[] expected, float[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        int first = -1, count = 0;
        float worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i].Equals(actual[i])) continue;
            if (first < 0) first = i;
            count++;
            worst = MathF.Max(worst, MathF.Abs(expected[i] - actual[i]));
        }
        if (count > 0)
            Assert.Fail($"{what}: {count} of {expected.Length} values differ; first at {first} ({expected[first]:R} vs {actual[first]:R}), " +
                $"max |diff| {worst:R}.");
    }

    /// <summary>|expected − actual| ≤ atol + rtol·|expected| everywhere (numpy's isclose).</summary>
    public static void Close(float[] expected, float[] actual, float atol, float rtol, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        int first = -1, count = 0;
        float worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = MathF.Abs(expected[i] - actual[i]);
            if (diff <= atol + rtol * MathF.Abs(expected[i])) continue;
            if (first < 0) first = i;
            count++;
            worst = MathF.Max(worst, diff);
        }
        if (count > 0)
            Assert.Fail($"{what}: {count} of {expected.Length} values outside atol {atol} + rtol {rtol}·|expected|; " +
                $"first at {first} ({expected[first]:R} vs {actual[first]:R}), max |diff| {worst:R}.");
    }

    /// <summary>Token for token.</summary>
    public static void Ints(int[] expected, int[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
                Assert.Fail($"{what}: token {i} differs ({expected[i]} vs {actual[i]}); " +
                    $"expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}].");
    }
}
