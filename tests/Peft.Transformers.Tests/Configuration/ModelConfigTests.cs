using Peft.Transformers.Configuration;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class ModelConfigTests
{
    [TestMethod]
    public void ReadsFixtureConfigsOfEveryFamily()
    {
        var gpt2 = ModelConfig.Load(Fixtures.Hf("gpt2_base", "base"));
        Assert.AreEqual(ModelFamily.Gpt2, gpt2.Family);
        Assert.AreEqual((128, 32, 2, 4, 8, 128, 64),
            (gpt2.VocabSize, gpt2.HiddenSize, gpt2.NumLayers, gpt2.NumAttentionHeads, gpt2.HeadDim, gpt2.IntermediateSize, gpt2.MaxPositionEmbeddings));
        Assert.AreEqual("gelu_new", gpt2.HiddenActivation);
        Assert.IsTrue(gpt2.TieWordEmbeddings);
        CollectionAssert.AreEqual(new[] { 127 }, gpt2.EosTokenIds.ToArray());

        var llama = ModelConfig.Load(Fixtures.Hf("llama_base", "base", "config.json"));
        Assert.AreEqual((4, 2, 8, 64), (llama.NumAttentionHeads, llama.NumKeyValueHeads, llama.HeadDim, llama.IntermediateSize));
        Assert.AreEqual(1e-6f, llama.NormEpsilon);
        Assert.AreEqual(10000f, llama.RopeTheta);
        Assert.IsFalse(llama.TieWordEmbeddings);

        var t5 = ModelConfig.Load(Fixtures.Hf("t5_base", "base"));
        Assert.IsTrue(t5.IsEncoderDecoder);
        Assert.AreEqual((2, 2, 8, 64, 8, 16),
            (t5.NumLayers, t5.NumDecoderLayers, t5.HeadDim, t5.IntermediateSize, t5.RelativeAttentionNumBuckets, t5.RelativeAttentionMaxDistance));
        Assert.AreEqual("relu", t5.HiddenActivation);
        Assert.IsFalse(t5.IsGatedFeedForward);
        Assert.AreEqual(0, t5.DecoderStartTokenId);
    }

    [TestMethod]
    public void FlanT5GatedGeluUsesTanhApproximation()
    {
        var c = ModelConfig.Parse(
            """{"model_type":"t5","vocab_size":10,"d_model":8,"num_layers":1,"num_heads":2,"d_kv":4,"d_ff":16""" +
            ""","feed_forward_proj":"gated-gelu","tie_word_embeddings":false}""");
        Assert.IsTrue(c.IsGatedFeedForward);
        Assert.AreEqual("gelu_new", c.HiddenActivation);
        Assert.IsFalse(c.TieWordEmbeddings);
    }

    [TestMethod]
    public void QwenAndMistralVariants()
    {
        var q = ModelConfig.Parse(
            """{"model_type":"qwen2","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1""" +
            ""","intermediate_size":16,"use_sliding_window":false,"sliding_window":4,"eos_token_id":[3,4]}""");
        Assert.IsTrue(q.AttentionBias);
        Assert.IsNull(q.SlidingWindow);
        CollectionAssert.AreEqual(new[] { 3, 4 }, q.EosTokenIds.ToArray());
        var m = ModelConfig.Parse(
            """{"model_type":"mistral","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2""" +
            ""","intermediate_size":16,"sliding_window":4}""");
        Assert.AreEqual(4, m.SlidingWindow);
        Assert.AreEqual(2, m.NumKeyValueHeads);
    }

    [TestMethod]
    public void UnknownModelTypeNamesFileFieldAndSupportedValues()
    {
        var ex = Assert.ThrowsExactly<ModelConfigException>(() => ModelConfig.Parse("""{"model_type":"bert"}""", "x/config.json"));
        StringAssert.StartsWith(ex.Message, "x/config.json: field 'model_type'");
        StringAssert.Contains(ex.Message, "'bert'");
        StringAssert.Contains(ex.Message, "gpt2, llama, qwen2, mistral, t5");
    }

    [TestMethod]
    [DataRow("""{"model_type":"gpt2","vocab_size":10,"n_layer":1,"n_head":2,"n_positions":8}""", "n_embd", "missing")]
    [DataRow("""{"model_type":"gpt2","vocab_size":10,"n_embd":9,"n_layer":1,"n_head":2,"n_positions":8}""", "n_embd", "not divisible by n_head = 2")]
    [DataRow("""{"model_type":"llama","vocab_size":"ten","hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16}""",
        "vocab_size", "must be an integer")]
    [DataRow(
        """{"model_type":"llama","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":3""" +
        ""","intermediate_size":16}""",
        "num_attention_heads", "not divisible by num_key_value_heads = 3")]
    [DataRow("""{"model_type":"t5","vocab_size":10,"d_model":8,"num_layers":1,"num_heads":2,"d_kv":4,"d_ff":16,"feed_forward_proj":"swish"}""",
        "feed_forward_proj", "supported")]
    // Found by CachedGenerationProperties: these T5 configs parsed, then the first forward pass indexed the bias table at int.MinValue.
    [DataRow("""{"model_type":"t5","vocab_size":10,"d_model":8,"num_layers":1,"num_heads":2,"d_kv":4,"d_ff":16""" +
        ""","relative_attention_num_buckets":4,"relative_attention_max_distance":2}""", "relative_attention_max_distance", "exceed the exact range")]
    [DataRow("""{"model_type":"t5","vocab_size":10,"d_model":8,"num_layers":1,"num_heads":2,"d_kv":4,"d_ff":16""" +
        ""","relative_attention_num_buckets":2}""", "relative_attention_num_buckets", "at least 4 buckets")]
    [DataRow("""not json""", "(root)", "not valid JSON")]
    public void BadFieldsAreNamed(string json, string field, string fragment)
    {
        var ex = Assert.ThrowsExactly<ModelConfigException>(() => ModelConfig.Parse(json, "cfg.json"));
        Assert.AreEqual(field, ex.Field);
        StringAssert.Contains(ex.Message, fragment);
        StringAssert.Contains(ex.Message, "cfg.json");
    }

    [TestMethod]
    public void MissingFileIsFileNotFound()
    {
        Assert.ThrowsExactly<FileNotFoundException>(() => ModelConfig.Load(Path.Combine(Path.GetTempPath(), "no-such-model-folder-xyz")));
    }

    [TestMethod]
    public void ToJsonKeepsEveryOriginalField()
    {
        var c = ModelConfig.Load(Fixtures.Hf("gpt2_base", "base"));
        var again = ModelConfig.Parse(c.ToJson());
        Assert.AreEqual(c.VocabSize, again.VocabSize);
        Assert.AreEqual("cls_index", again.GetRawField("summary_type")!.GetValue<string>());
    }
}
