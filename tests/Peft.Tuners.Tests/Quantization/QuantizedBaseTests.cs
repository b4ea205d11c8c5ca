using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Tensors.Quantization;
using Peft.Transformers.Caching;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PTuning;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;

namespace Peft.Tuners.Tests;

/// <summary>
/// Every PEFT method on int8, NF4, BF16 and F16 bases of the gpt2, llama and t5 fixtures: one training step
/// (finite, non-zero gradients reach only the adapter, the optimizer moves it) and greedy
/// generation with and without a cache giving the same tokens.
/// </summary>
[TestClass]
public sealed class QuantizedBaseTests
{
    /// <summary>
    /// A PeftModel over <paramref name="model"/> running a prompt or prefix adapter trained outside
    /// it (generation goes through the PeftModel's own step).
    /// </summary>
    private static PeftModel WithAdapter(ILanguageModel model, IPeftAdapter adapter)
    {
        var peft = new PeftModel(model);
        peft.AddAdapter("a", adapter, trainable: false);
        return peft;
    }

    public static IEnumerable<object[]> Cases()
    {
        string[] cases =
        [
            "gpt2_prompt_tuning", "gpt2_prefix_tuning", "gpt2_prefix_tuning_proj", "gpt2_p_tuning", "gpt2_multitask_prompt_tuning", "gpt2_lora", "gpt2_ia3",
            "llama_prompt_tuning", "llama_prefix_tuning", "llama_prefix_tuning_proj", "llama_p_tuning", "llama_multitask", "llama_lora", "llama_ia3",
            "t5_prompt_tuning", "t5_prefix_tuning", "t5_lora", "t5_ia3",
        ];
        foreach (var c in cases)
            foreach (var format in new[] { QuantizationFormat.Int8, QuantizationFormat.Nf4, QuantizationFormat.BFloat16, QuantizationFormat.Float16 })
                yield return [c, (int)format];
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void TrainsAStepAndGeneratesTheSameWithAndWithoutCache(string caseName, int format)
    {
        var options = new LoadOptions { Quantization = (QuantizationFormat)format };
        // Multitask prompt tuning has a gpt2 fixture only: the llama case creates the adapter.
        using var c = new HfCase(caseName == "llama_multitask" ? "llama_base" : caseName);
        string adapterFolder = Path.Combine(c.Folder, "adapter");
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        var labels = c.Ints("input.labels");
        var generation = new GenerationOptions { MaxNewTokens = 6 };
        IEnumerable<Tensor> parameters;
        Func<Tensor> loss;
        Func<bool, int[]> generate;

        if (caseName.StartsWith("t5", StringComparison.Ordinal))
        {
            var model = ModelLoader.LoadSeq2Seq(c.BaseFolder, options);
            Assert.IsTrue(model.LinearLayers.All(l => l.IsQuantized));
            var gen = new Seq2SeqGenerator(model);
            switch (caseName)
            {
                case "t5_prompt_tuning":
                {
                    var a = PromptTuningAdapter.Load(adapterFolder, model.Config, model.TokenEmbeddings);
                    parameters = a.Parameters;
                    loss = () =>
                    {
                        var (e, m, _) = a.Prepend(model.Embed(ids), mask, null);
                        return model.Forward(inputEmbeddings: e, attentionMask: m, labels: labels).Loss!;
                    };
                    generate = useCache => WithAdapter(model, a).Generate(ids, mask, generation with { UseCache = useCache }).ToArray();
                    break;
                }
                case "t5_prefix_tuning":
                {
                    var a = PrefixTuningAdapter.Load(adapterFolder, model.Config);
                    parameters = a.Parameters;
                    loss = () => model.Forward(inputIds: ids, attentionMask: mask, decoderPrefix: a.Prefix(ids.Shape[0]), labels: labels).Loss!;
                    generate = useCache => WithAdapter(model, a).Generate(ids, mask, generation with { UseCache = useCache }).ToArray();
                    break;
                }
                default:
                {
                    parameters = caseName == "t5_lora"
                        ? LoraAdapter.Load(adapterFolder, model.LinearLayers).Parameters
                        : Ia3Adapter.Load(adapterFolder, model.LinearLayers).Parameters;
                    loss = () => model.Forward(inputIds: ids, attentionMask: mask, labels: labels).Loss!;
                    generate = useCache => gen.GenerateGreedy(ids, mask, generation with { UseCache = useCache }).ToArray();
                    break;
                }
            }
        }
        else
        {
            var model = ModelLoader.LoadCausal(c.BaseFolder, options);
            Assert.IsTrue(model.LinearLayers.All(l => l.IsQuantized));
            var gen = new CausalGenerator(model);
            string method = caseName[(caseName.IndexOf('_') + 1)..];
            Func<Tensor>? virtualTokens = null;
            IPeftAdapter? promptAdapter = null;
            IntTensor? taskIds = null;
            PrefixTuningAdapter? prefixAdapter = null;
            switch (method)
            {
                case "prompt_tuning":
                {
                    var a = PromptTuningAdapter.Load(adapterFolder, model.Config, model.TokenEmbeddings);
                    parameters = a.Parameters;
                    virtualTokens = a.VirtualTokens;
                    promptAdapter = a;
                    break;
                }
                case "p_tuning":
                {
                    // A loaded P-tuning adapter holds only the encoder's output; train a fresh encoder of its config.
                    var a = PTuningAdapter.Create(PTuningAdapter.Load(adapterFolder, model.Config).Config, model.Config, seed: 3);
                    parameters = a.Parameters;
                    virtualTokens = a.VirtualTokens;
                    promptAdapter = a;
                    break;
                }
                case "multitask_prompt_tuning" or "multitask":
                {
                    var a = method == "multitask"
                        ? MultitaskPromptTuningAdapter.Create(new MultitaskPromptTuningConfig { NumVirtualTokens = 3, NumTasks = 2 }, model.Config,
                            model.TokenEmbeddings, seed: 5)
                        : MultitaskPromptTuningAdapter.Load(adapterFolder, model.Config, model.TokenEmbeddings);
                    var tasks = IntTensor.FromArray(Enumerable.Range(0, ids.Shape[0]).Select(i => i % 2).ToArray(), ids.Shape[0]);
                    parameters = a.Parameters;
                    virtualTokens = () => a.VirtualTokens(tasks);
                    promptAdapter = a;
                    taskIds = tasks;
                    break;
                }
                case "prefix_tuning" or "prefix_tuning_proj":
                    prefixAdapter = PrefixTuningAdapter.Load(adapterFolder, model.Config);
                    parameters = prefixAdapter.Parameters;
                    break;
                case "lora":
                    parameters = LoraAdapter.Load(adapterFolder, model.LinearLayers).Parameters;
                    break;
                default:
                    parameters = Ia3Adapter.Load(adapterFolder, model.LinearLayers).Parameters;
                    break;
            }
            if (virtualTokens is not null)
            {
                loss = () =>
                {
                    var (e, m, l) = VirtualTokenInputs.Prepend(virtualTokens(), model.Embed(ids), mask, labels);
                    return model.Forward(inputEmbeddings: e, attentionMask: m, labels: l).Loss!;
                };
                generate = useCache => WithAdapter(model, promptAdapter!).Generate(ids, mask, generation with { UseCache = useCache }, taskIds).ToArray();
            }
            else if (prefixAdapter is not null)
            {
                int count = prefixAdapter.Config.NumVirtualTokens;
                loss = () => model.Forward(inputIds: ids, attentionMask: OnesThen(mask, count), prefix: prefixAdapter.Prefix(ids.Shape[0]),
                    labels: labels).Loss!;
                generate = useCache => WithAdapter(model, prefixAdapter).Generate(ids, mask, generation with { UseCache = useCache }).ToArray();
            }
            else
            {
                loss = () => model.Forward(inputIds: ids, attentionMask: mask, labels: labels).Loss!;
                generate = useCache => gen.Generate(ids, mask, generation with { UseCache = useCache }).ToArray();
            }
        }

        var trainable = parameters.ToArray();
        foreach (var p in trainable) p.RequiresGrad = true;
        var before = trainable.Select(p => p.ToArray()).ToArray();
        var optimizer = new AdamW(trainable, learningRate: 1e-2f);
        float first;
        using (new TensorScope())
        {
            var l = loss();
            first = l.Item();
            optimizer.ZeroGrad();
            l.Backward();
        }
        Assert.IsTrue(float.IsFinite(first), $"loss {first}");
        Assert.IsTrue(trainable.All(p => p.Grad is not null && p.Grad.ToArray().All(float.IsFinite)), "every adapter parameter gets a finite gradient");
        Assert.IsTrue(trainable.Any(p => p.Grad!.ToArray().Any(g => g != 0f)), "some gradient is non-zero");
        optimizer.Step();
        Assert.IsTrue(trainable.Select((p, i) => !p.ToArray().SequenceEqual(before[i])).Any(changed => changed), "the step moved the adapter");
        float second;
        using (new TensorScope()) second = loss().Item();
        Assert.IsTrue(float.IsFinite(second));

        CollectionAssert.AreEqual(generate(false), generate(true), $"{caseName} on {(QuantizationFormat)format}: cached vs uncached greedy ids");
    }

    private static IntTensor OnesThen(IntTensor mask, int count)
    {
        int batch = mask.Shape[0], length = mask.Shape[1];
        var m = IntTensor.Zeros(new Shape(batch, count + length));
        for (int b = 0; b < batch; b++)
        {
            m.Span.Slice(b * (count + length), count).Fill(1);
            mask.Span.Slice(b * length, length).CopyTo(m.Span.Slice(b * (count + length) + count));
        }
        return m;
    }
}
