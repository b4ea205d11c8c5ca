using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models.T5;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class T5ParityTests
{
    [TestMethod]
    public void LogitsEncoderOutputLossAndCacheMatchHuggingFace()
    {
        using var c = new HfCase("t5_base");
        var model = ModelLoader.LoadSeq2Seq(c.BaseFolder);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        var labels = c.Ints("input.labels");
        CollectionAssert.AreEqual(c.Ints("input.decoder_input_ids").ToArray(), model.ShiftRight(labels).ToArray());
        int batch = ids.Shape[0];
        var layout = model.DecoderCacheLayoutFor(batch);
        var cache = new EncoderDecoderCache(new DynamicCache(layout), new DynamicCache(layout));
        using var scope = new TensorScope();
        var output = model.Forward(inputIds: ids, attentionMask: mask, labels: labels, cache: cache);
        c.AssertClose("logits", output.Logits.Span, "logits");
        c.AssertClose("encoder_last_hidden_state", output.EncoderLastHiddenState.Span, "hidden_or_cache");
        c.AssertClose("train.loss", output.Loss!.Span, "loss");
        var self = cache.SelfAttention.ToLayerList()[0];
        var cross = cache.CrossAttention.ToLayerList()[0];
        c.AssertClose("past.layer0.self_key", self.Keys.Span, "hidden_or_cache");
        c.AssertClose("past.layer0.self_value", self.Values.Span, "hidden_or_cache");
        c.AssertClose("past.layer0.cross_key", cross.Keys.Span, "hidden_or_cache");
        c.AssertClose("past.layer0.cross_value", cross.Values.Span, "hidden_or_cache");
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(true, true)]
    public void GreedyGenerationMatchesHuggingFace(bool useCache, bool staticCache)
    {
        using var c = new HfCase("t5_base");
        var model = ModelLoader.LoadSeq2Seq(c.BaseFolder);
        var steps = new List<float[]>();
        var options = new GenerationOptions
        {
            MaxNewTokens = c.Case.GetProperty("generation").GetProperty("max_new_tokens").GetInt32(),
            UseCache = useCache,
            UseStaticCache = staticCache
        };
        var sequences = new Seq2SeqGenerator(model).Generate(c.Ints("input.input_ids"), c.Ints("input.attention_mask"), options, steps);
        CollectionAssert.AreEqual(c.Expected.ReadInt32("generate.ids"), sequences.ToArray());
        c.AssertClose("generate.step_logits", steps.SelectMany(s => s).ToArray(), "logits");
    }

    [TestMethod]
    public void RelativePositionBucketsMatchHuggingFaceFormula()
    {
        // Values from HF's _relative_position_bucket with num_buckets 32, max_distance 128.
        Assert.AreEqual(0, T5RelativePositionBias.Bucket(0, true, 32, 128));
        Assert.AreEqual(16 + 3, T5RelativePositionBias.Bucket(3, true, 32, 128));
        Assert.AreEqual(3, T5RelativePositionBias.Bucket(-3, true, 32, 128));
        Assert.AreEqual(8, T5RelativePositionBias.Bucket(-8, true, 32, 128));   // 8 + floor(log(1)/log(16)*8) = 8
        Assert.AreEqual(15, T5RelativePositionBias.Bucket(-500, true, 32, 128)); // capped at num_buckets/2 - 1
        Assert.AreEqual(0, T5RelativePositionBias.Bucket(5, false, 32, 128));    // causal: future keys share bucket 0
        Assert.AreEqual(31, T5RelativePositionBias.Bucket(-1000, false, 32, 128));
        Assert.AreEqual(23, T5RelativePositionBias.Bucket(-40, false, 32, 128)); // 16 + floor(ln(40/16)/ln(8)·16)
        Assert.AreEqual(12, T5RelativePositionBias.Bucket(-40, true, 32, 128));  // 8 + floor(ln(5)/ln(16)·8)
        Assert.AreEqual(28, T5RelativePositionBias.Bucket(40, true, 32, 128));
    }
}
