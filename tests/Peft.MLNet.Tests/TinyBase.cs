using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace Peft.MLNet.Tests;

/// <summary>
/// A tiny Hugging Face model folder made on the spot: a 2-layer GPT-2 (or Llama) with random
/// weights, and a byte-level BPE tokenizer.json without merges whose ids are the UTF-8 bytes
/// (256 = &lt;|endoftext|&gt;), as a real model folder has them.
/// </summary>
internal sealed class TinyBase : IDisposable
{
    public const int EndOfText = 256;

    // Also compiled into bench/Peft.MLNet.Benchmarks (linked), which builds its bases the same way.
    private TinyBase(string folder) => Folder = folder;

    public string Folder { get; }

    /// <param name="family">"gpt2", "llama" or "t5".</param>
    /// <param name="seed">Weight seed.</param>
    /// <param name="width">GPT-2's hidden size (heads of 16, or of 64 from 256 up).</param>
    /// <param name="layers">GPT-2's layer count.</param>
    public static TinyBase Create(string family = "gpt2", ulong seed = 7, int width = 32, int layers = 2)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"peft-mlnet-tests-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var json = family == "t5"
            ? new JsonObject
            {
                ["model_type"] = "t5", ["vocab_size"] = 257, ["d_model"] = 32, ["d_kv"] = 8, ["d_ff"] = 64, ["num_layers"] = 2, ["num_decoder_layers"] = 2,
                ["num_heads"] = 4, ["relative_attention_num_buckets"] = 8, ["relative_attention_max_distance"] = 32, ["feed_forward_proj"] = "relu",
                ["eos_token_id"] = EndOfText, ["pad_token_id"] = 0, ["decoder_start_token_id"] = 0, ["tie_word_embeddings"] = true,
            }
            : family == "gpt2"
            ? new JsonObject
            {
                ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = width, ["n_layer"] = layers,
                ["n_head"] = width >= 256 ? width / 64 : width / 16, ["n_positions"] = 128,
                ["eos_token_id"] = EndOfText, ["bos_token_id"] = EndOfText,
            }
            : new JsonObject
            {
                ["model_type"] = "llama", ["vocab_size"] = 257, ["hidden_size"] = 32, ["intermediate_size"] = 64, ["num_hidden_layers"] = 2,
                ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 128,
                    ["eos_token_id"] = EndOfText, ["bos_token_id"] = EndOfText,
                ["rms_norm_eps"] = 1e-6, ["tie_word_embeddings"] = false,
            };
        var config = ModelConfig.Parse(json.ToJsonString(), "tiny config");
        if (config.IsEncoderDecoder)
        {
            var t5 = new Peft.Transformers.Models.T5.T5Model(config);
            ModelInitializer.InitializeRandom(t5.Parameters, seed);
            ModelLoader.Save(t5, folder);
        }
        else
        {
            var model = ModelLoader.CreateCausal(config);
            ModelInitializer.InitializeRandom(model.Parameters, seed);
            ModelLoader.Save(model, folder);
        }
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), TokenizerJson());
        return new TinyBase(folder);
    }

    /// <summary>GPT-2's byte-to-character table: printable Latin-1 bytes stand for themselves, the rest move to 256 and up.</summary>
    private static char[] ByteCharacters()
    {
        var chars = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            chars[b] = printable ? (char)b : (char)(256 + next++);
        }
        return chars;
    }

    private static string TokenizerJson()
    {
        var vocab = new JsonObject();
        var chars = ByteCharacters();
        for (int b = 0; b < 256; b++) vocab[chars[b].ToString()] = b;
        vocab["<|endoftext|>"] = EndOfText;
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = EndOfText, ["content"] = "<|endoftext|>", ["single_word"] = false,
                    ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = true, ["special"] = true,
            }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel.DeepClone(),
            ["post_processor"] = null,
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null,
                    ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "", ["fuse_unk"] = false,
                ["byte_fallback"] = false, ["vocab"] = vocab, ["merges"] = new JsonArray(),
            },
        }.ToJsonString();
    }

    public void Dispose()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }
}
