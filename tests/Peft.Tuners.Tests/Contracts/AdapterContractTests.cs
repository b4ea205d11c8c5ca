using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Tests.Contracts;

/// <summary>
/// Contracts every PEFT method must keep on every model family, on float and quantized bases: one
/// test per contract, one case per cell of <see cref="MethodMatrix"/> (named "method/family/quantization").
/// </summary>
[TestClass]
public sealed class AdapterContractTests
{
    private const string Name = ContractRig.AdapterName;

    /// <summary>
    /// Save → load identity: a trained adapter saved and loaded into a fresh PeftModel over a freshly
    /// loaded base (same quantization) gives bit-identical logits and the same greedy tokens.
    /// Quantizing the same float checkpoint twice gives the same quantized weights, so exact equality
    /// holds on quantized bases too.
    /// </summary>
    /// <remarks>
    /// A loaded adapter is frozen, and a frozen weight is multiplied through a packed copy (a
    /// different GEMM path, with different rounding: LoRA on t5 differs by ~1e-6 in the last bits);
    /// so the trained adapter is frozen too before its logits are taken, and both run the same kernels.
    /// </remarks>
    [TestMethod]
    [DynamicData(nameof(MethodMatrix.AllCases), typeof(MethodMatrix), DynamicDataDisplayName = nameof(MethodMatrix.DisplayName),
        DynamicDataDisplayNameDeclaringType = typeof(MethodMatrix))]
    public void SavedThenLoadedAdapterGivesTheSameLogitsAndGenerations(string cell)
    {
        var c = MethodMatrix.Find(cell);
        var trained = ContractRig.Build(c);
        trained.Train();
        trained.Model.SetTrainable(Name, false);
        trained.AssertAdapterChangesLogits();
        var logits = trained.Logits();
        var greedy = trained.Generate(ContractRig.Greedy);
        var penalized = trained.Generate(ContractRig.Penalized);

        string folder = Directory.CreateTempSubdirectory("peft-contract-").FullName;
        try
        {
            trained.Model.SaveAdapter(Name, folder);
            var loaded = ContractRig.Load(c, folder);
            Same.Floats(logits, loaded.Logits(), $"{c}: logits of the saved-then-loaded adapter vs the trained one");
            Same.Ints(greedy, loaded.Generate(ContractRig.Greedy), $"{c}: greedy tokens of the saved-then-loaded adapter vs the trained one");
            Same.Ints(penalized, loaded.Generate(ContractRig.Penalized), $"{c}: penalized greedy tokens of the saved-then-loaded adapter vs the trained one");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Cached == uncached: greedy generation with a key/value cache gives the same tokens as
    /// recomputing every step, on two rows, the second left-padded (causal) / padded in the encoder
    /// (T5); plain greedy and greedy with a repetition penalty (see <see cref="ContractRig.Penalized"/>),
    /// whose tokens the adapter is checked to change (so a cache path that lost it would fail).
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(MethodMatrix.AllCases), typeof(MethodMatrix), DynamicDataDisplayName = nameof(MethodMatrix.DisplayName),
        DynamicDataDisplayNameDeclaringType = typeof(MethodMatrix))]
    public void CachedGenerationEqualsUncachedGeneration(string cell)
    {
        var c = MethodMatrix.Find(cell);
        var rig = ContractRig.Build(c);
        rig.Train();
        rig.AssertAdapterChangesLogits();
        rig.AssertAdapterChangesGeneration(ContractRig.Penalized with { UseCache = false });
        Same.Ints(rig.Generate(ContractRig.Greedy with { UseCache = false }), rig.Generate(ContractRig.Greedy with { UseCache = true }),
            $"{c}: greedy tokens with the cache vs without");
        Same.Ints(rig.Generate(ContractRig.Penalized with { UseCache = false }), rig.Generate(ContractRig.Penalized with { UseCache = true }),
            $"{c}: penalized greedy tokens with the cache vs without");
    }

    /// <summary>
    /// Greedy generation (which asks the step for ids rather than logits, and past 32 steps screens the LM head) picks
    /// at every step the first maximum of the last position's logits of a plain forward pass over the sequence so far:
    /// 40 new tokens on two unpadded rows (causal bases; T5 generates through its own step).
    /// </summary>
    public static IEnumerable<object[]> CausalCases => MethodMatrix.Cases.Where(c => c.Family != Peft.Transformers.Configuration.ModelFamily.T5)
        .Select(c => new object[] { c.Id });

    [TestMethod]
    [DynamicData(nameof(CausalCases), DynamicDataDisplayName = nameof(MethodMatrix.DisplayName), DynamicDataDisplayNameDeclaringType = typeof(MethodMatrix))]
    public void GreedyGenerationPicksTheForwardPassesFirstMaxima(string cell)
    {
        var c = MethodMatrix.Find(cell);
        var rig = ContractRig.Build(c);
        rig.Train();
        Assert.IsFalse(rig.Model.BaseModel.Config.IsEncoderDecoder, $"{c}: a causal base");
        const int newTokens = 40;
        int prompt = rig.Ids.Shape[1], vocab = rig.Model.BaseModel.Config.VocabSize;
        var ids = rig.Ids.ToArray().ToList();
        var mask = Enumerable.Repeat(1, ids.Count).ToList();
        var generated = rig.Model.Generate(rig.Ids, IntTensor.FromArray([.. mask], 2, prompt), ContractRig.Greedy with { MaxNewTokens = newTokens },
            rig.TaskIds).ToArray();
        for (int t = 0; t < newTokens; t++)
        {
            int length = prompt + t;
            float[] logits;
            using (Autograd.NoGrad())
            using (new TensorScope())
                logits = rig.Model.Forward(IntTensor.FromArray([.. ids], 2, length), IntTensor.FromArray([.. mask], 2, length), null, rig.TaskIds).Logits.ToArray();
            int positions = logits.Length / (2 * vocab);
            for (int row = 1; row >= 0; row--)
            {
                int next = FirstMaximum.IndexOf(logits.AsSpan((row * positions + positions - 1) * vocab, vocab));
                Assert.AreEqual(next, generated[row * (prompt + newTokens) + length], $"{c}: row {row}, new token {t}");
                ids.Insert((row + 1) * length, next);
                mask.Insert((row + 1) * length, 1);
            }
        }
    }

    /// <summary>
    /// Disabled == base: inside DisableAdapters the logits are exactly those of a freshly loaded base
    /// of the same quantization without any PeftModel; after the scope the adapter applies again.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(MethodMatrix.AllCases), typeof(MethodMatrix), DynamicDataDisplayName = nameof(MethodMatrix.DisplayName),
        DynamicDataDisplayNameDeclaringType = typeof(MethodMatrix))]
    public void DisabledAdaptersGiveTheBareBaseModel(string cell)
    {
        var c = MethodMatrix.Find(cell);
        var rig = ContractRig.Build(c);
        rig.Train();
        var bare = rig.BareLogits(ContractRig.LoadBase(c));
        var enabled = rig.Logits();
        rig.AssertAdapterChangesLogits();
        using (rig.Model.DisableAdapters())
            Same.Floats(bare, rig.Logits(), $"{c}: logits with adapters disabled vs a bare base");
        Same.Floats(enabled, rig.Logits(), $"{c}: logits after the disabled scope vs before it");
    }

    /// <summary>
    /// Merged == unmerged, for weight adapters: merging a trained adapter into a float base changes
    /// the logits by at most atol 1e-5 + rtol 1e-5·|logit| (the update is added to the weights in
    /// float, so rounding differs), and unmerging brings them back within the same tolerance. On a
    /// quantized base merging is refused with InvalidOperationException and changes nothing.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(MethodMatrix.WeightAdapterCases), typeof(MethodMatrix), DynamicDataDisplayName = nameof(MethodMatrix.DisplayName),
        DynamicDataDisplayNameDeclaringType = typeof(MethodMatrix))]
    public void MergedAdapterGivesTheSameLogitsAndUnmergesBack(string cell)
    {
        const float atol = 1e-5f, rtol = 1e-5f;
        var c = MethodMatrix.Find(cell);
        var rig = ContractRig.Build(c);
        rig.Train();
        rig.AssertAdapterChangesLogits();
        var unmerged = rig.Logits();
        var adapter = (IWeightAdapter)rig.Adapter;

        if (c.Quantization != QuantizationFormat.None)
        {
            Assert.ThrowsExactly<InvalidOperationException>(() => rig.Model.MergeAdapter(Name), $"{c}: merging into a quantized base is refused");
            Assert.IsFalse(adapter.IsMerged, $"{c}: the refused merge left the adapter unmerged");
            Same.Floats(unmerged, rig.Logits(), $"{c}: logits after the refused merge vs before");
            return;
        }

        var baseWeights = rig.Base.LinearLayers.Select(l => l.Weight.ToArray()).ToArray();
        rig.Model.MergeAdapter(Name);
        Assert.IsTrue(adapter.IsMerged, $"{c}: merged");
        Assert.IsTrue(rig.Base.LinearLayers.Where((l, i) => !l.Weight.ToArray().SequenceEqual(baseWeights[i])).Any(), $"{c}: merging changed base weights");
        Same.Close(unmerged, rig.Logits(), atol, rtol, $"{c}: logits merged vs unmerged");

        rig.Model.UnmergeAdapter(Name);
        Assert.IsFalse(adapter.IsMerged, $"{c}: unmerged");
        Same.Close(unmerged, rig.Logits(), atol, rtol, $"{c}: logits after unmerging vs before merging");
    }

    /// <summary>
    /// Training on the base (float, int8 or NF4): a few AdamW steps on a small repeated batch lower
    /// the loss, move every adapter tensor, and leave every base parameter without a gradient.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(MethodMatrix.AllCases), typeof(MethodMatrix), DynamicDataDisplayName = nameof(MethodMatrix.DisplayName),
        DynamicDataDisplayNameDeclaringType = typeof(MethodMatrix))]
    public void TrainingLowersTheLossAndTouchesOnlyTheAdapter(string cell)
    {
        var c = MethodMatrix.Find(cell);
        var rig = ContractRig.Build(c);
        var parameters = rig.Model.TrainableParameters;
        Assert.IsNotEmpty(parameters, $"{c}: a fresh adapter has trainable parameters");
        CollectionAssert.AreEquivalent(rig.Adapter.Parameters.ToArray(), parameters.ToArray(), $"{c}: the trainable parameters are the adapter's");
        var before = parameters.Select(p => p.ToArray()).ToArray();
        float lossBefore = rig.Loss();

        var losses = rig.Train(steps: 5);
        float lossAfter = rig.Loss();

        Assert.IsTrue(losses.All(float.IsFinite) && float.IsFinite(lossAfter), $"{c}: finite losses [{string.Join(", ", losses)}], {lossAfter}");
        Assert.IsLessThan(lossBefore, lossAfter, $"{c}: loss after 5 steps ({lossAfter}) below the loss before ({lossBefore})");
        for (int i = 0; i < parameters.Count; i++)
            Assert.IsFalse(before[i].SequenceEqual(parameters[i].ToArray()),
                $"{c}: adapter tensor {parameters[i].Name ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)} moved");
        var withGrad = rig.Model.BaseModel.Parameters.All.Where(p => p.Tensor.Grad is not null).Select(p => p.Name).ToArray();
        Assert.IsEmpty(withGrad, $"{c}: base parameters with a gradient: {string.Join(", ", withGrad)}");
    }
}
