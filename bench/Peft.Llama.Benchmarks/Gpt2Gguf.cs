using Peft.Transformers.Configuration;

namespace Peft.Llama.Benchmarks;

/// <summary>
/// Turns our gpt2 folder (config.json + float32 model.safetensors in Hugging Face's GPT-2 layout) into a GGUF for
/// llama.cpp's "gpt2" architecture, as llama.cpp's convert_hf_to_gguf.py lays it out: Conv1D weights ([in, out] in the
/// checkpoint) transposed to ggml's [out rows of in], the tied LM head written again as output.weight, norms, biases
/// and position embeddings kept float32, the other matrices in the file's type.
/// </summary>
internal static class Gpt2Gguf
{
    /// <summary>The GGUF's path for a type, beside the weights; written when missing or older than them.</summary>
    public static string Ensure(string folder, GgufType type)
    {
        string path = Path.Combine(folder, $"gpt2-{type.ToString().ToLowerInvariant()}.gguf");
        string weights = Path.Combine(folder, "model.safetensors");
        if (File.Exists(path) && File.GetLastWriteTimeUtc(path) >= File.GetLastWriteTimeUtc(weights)) return path;
        Write(folder, type, path);
        Console.WriteLine($"wrote {path}");
        return path;
    }

    private static void Write(string folder, GgufType type, string path)
    {
        var config = ModelConfig.Load(folder);
        if (config.ModelType != "gpt2") throw new NotSupportedException($"{folder} is {config.ModelType}, not gpt2.");
        var st = new SafetensorsFile(Path.Combine(folder, "model.safetensors"));
        var vocab = new ByteLevelVocab(config.VocabSize);
        var w = new GgufWriter();
        w.Add("general.architecture", "gpt2");
        w.Add("general.name", "peft random gpt2");
        w.Add("general.file_type", type switch { GgufType.F32 => 0u, GgufType.F16 => 1u, GgufType.Q8_0 => 7u, _ => 32u }); // llama_ftype
        w.Add("gpt2.context_length", (uint)config.MaxPositionEmbeddings);
        w.Add("gpt2.embedding_length", (uint)config.HiddenSize);
        w.Add("gpt2.feed_forward_length", (uint)config.IntermediateSize);
        w.Add("gpt2.block_count", (uint)config.NumLayers);
        w.Add("gpt2.attention.head_count", (uint)config.NumAttentionHeads);
        w.Add("gpt2.attention.layer_norm_epsilon", config.NormEpsilon);
        w.Add("tokenizer.ggml.model", "gpt2");
        w.Add("tokenizer.ggml.pre", "gpt-2"); // llama.cpp's name for GPT-2's pre-tokenizer regex
        w.Add("tokenizer.ggml.tokens", vocab.Tokens);
        w.Add("tokenizer.ggml.token_type", vocab.TokenTypes);
        w.Add("tokenizer.ggml.merges", vocab.Merges);
        w.Add("tokenizer.ggml.bos_token_id", (uint)vocab.EndOfText);
        w.Add("tokenizer.ggml.eos_token_id", (uint)vocab.EndOfText);

        // A matrix as stored (rows of the contiguous dimension), or a Conv1D weight [in, out] transposed to [out][in].
        void Matrix(string name, string source, GgufType t, bool transpose)
        {
            int[] s = st.Shape(source);
            long[] ne = transpose ? [s[0], s[1]] : [s[1], s[0]];
            w.Add(new GgufTensor(name, ne, t, () =>
            {
                float[] v = st.Read(source);
                return GgufEncoding.Encode(transpose ? Transpose(v, s[0], s[1]) : v, t);
            }));
        }
        void Vector(string name, string source) =>
            w.Add(new GgufTensor(name, [st.Shape(source)[0]], GgufType.F32, () => GgufEncoding.Encode(st.Read(source), GgufType.F32)));

        Matrix("token_embd.weight", "transformer.wte.weight", type, transpose: false);
        Matrix("position_embd.weight", "transformer.wpe.weight", GgufType.F32, transpose: false);
        for (int i = 0; i < config.NumLayers; i++)
        {
            string h = $"transformer.h.{i}.", b = $"blk.{i}.";
            Vector(b + "attn_norm.weight", h + "ln_1.weight");
            Vector(b + "attn_norm.bias", h + "ln_1.bias");
            Matrix(b + "attn_qkv.weight", h + "attn.c_attn.weight", type, transpose: true);
            Vector(b + "attn_qkv.bias", h + "attn.c_attn.bias");
            Matrix(b + "attn_output.weight", h + "attn.c_proj.weight", type, transpose: true);
            Vector(b + "attn_output.bias", h + "attn.c_proj.bias");
            Vector(b + "ffn_norm.weight", h + "ln_2.weight");
            Vector(b + "ffn_norm.bias", h + "ln_2.bias");
            Matrix(b + "ffn_up.weight", h + "mlp.c_fc.weight", type, transpose: true);
            Vector(b + "ffn_up.bias", h + "mlp.c_fc.bias");
            Matrix(b + "ffn_down.weight", h + "mlp.c_proj.weight", type, transpose: true);
            Vector(b + "ffn_down.bias", h + "mlp.c_proj.bias");
        }
        Vector("output_norm.weight", "transformer.ln_f.weight");
        Vector("output_norm.bias", "transformer.ln_f.bias");
        Matrix("output.weight", "transformer.wte.weight", type, transpose: false);
        w.Save(path);
    }

    private static float[] Transpose(float[] v, int rows, int columns)
    {
        var t = new float[v.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                t[(c * rows) + r] = v[(r * columns) + c];
        return t;
    }
}
