using System.Text;
using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace MLNetSample;

/// <summary>
/// The embedded default base model: a small GPT-2 (4 layers, 128 wide) with a byte-level
/// tokenizer, pretrained with this library's own engine on an embedded English text about films,
/// books and food, then written as a Hugging Face model folder (config.json, model.safetensors,
/// tokenizer.json). It is built on the first run (about a minute on 2 cores) and cached; later
/// runs reuse the folder.
/// </summary>
internal static class EmbeddedBase
{
    /// <summary>Bump when the recipe changes, so an old cache is not reused.</summary>
    private const string Version = "v1";

    private const int EndOfText = 256;

    /// <summary>The cached folder: $PEFT_MLNET_CACHE or the user's cache folder, /peft-mlnet/embedded-base-v1.</summary>
    public static string Folder
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("PEFT_MLNET_CACHE")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
                    Environment.SpecialFolderOption.Create), "peft-mlnet");
            return Path.Combine(root, $"embedded-base-{Version}");
        }
    }

    /// <summary>The folder, pretraining the model first when it is not cached yet.</summary>
    public static string Ensure(int steps = 600)
    {
        string folder = Folder;
        if (File.Exists(Path.Combine(folder, "tokenizer.json"))) return folder;
        Console.WriteLine($"Pretraining the embedded base model ({steps} steps) into {folder} (first run only).");
        string scratch = folder + $".partial-{Environment.ProcessId}";
        Directory.CreateDirectory(scratch);
        var model = Pretrain(steps);
        ModelLoader.Save(model, scratch);
        File.WriteAllText(Path.Combine(scratch, "tokenizer.json"), ByteLevelTokenizerJson());
        // Published whole or not at all: a run stopped midway leaves only a partial folder, never a broken cache.
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.Move(scratch, folder);
        return folder;
    }

    private static CausalLanguageModel Pretrain(int steps)
    {
        var config = ModelConfig.Parse(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = 128, ["n_layer"] = 4, ["n_head"] = 4, ["n_positions"] = 256,
            ["eos_token_id"] = EndOfText, ["bos_token_id"] = EndOfText,
        }.ToJsonString(), "embedded base config");
        var model = ModelLoader.CreateCausal(config);
        ModelInitializer.InitializeRandom(model.Parameters, seed: 42);
        model.Parameters.SetRequiresGrad(true);
        var optimizer = new AdamW(model.Parameters.All.Select(p => p.Tensor), learningRate: 2e-3f, weightDecay: 0f);
        var schedule = LearningRateSchedule.Cosine(2e-3f, warmupSteps: 20, totalSteps: steps);
        byte[] corpus = Encoding.UTF8.GetBytes(Corpus.Text);
        const int batch = 8, length = 96;
        var random = new Random(7);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int step = 0; step < steps; step++)
        {
            var ids = new int[batch * length];
            for (int b = 0; b < batch; b++)
            {
                int start = random.Next(corpus.Length - length);
                for (int t = 0; t < length; t++) ids[b * length + t] = corpus[start + t];
            }
            var input = IntTensor.FromArray(ids, batch, length);
            float loss;
            using (new TensorScope())
            {
                optimizer.LearningRate = schedule.LearningRateAt(step);
                var output = model.Forward(inputIds: input, labels: input);
                optimizer.ZeroGrad();
                output.Loss!.Backward();
                GradientClipping.ClipGlobalNorm(optimizer.Parameters, 1f);
                optimizer.Step();
                loss = output.Loss.Item();
            }
            if ((step + 1) % 25 == 0 || step + 1 == steps)
                Console.WriteLine($"  pretraining step {step + 1,4}/{steps}  loss {loss:F3}  ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        model.Parameters.SetRequiresGrad(false);
        return model;
    }

    /// <summary>A byte-level BPE tokenizer.json without merges: token ids are the UTF-8 bytes, 256 is &lt;|endoftext|&gt;.</summary>
    private static string ByteLevelTokenizerJson()
    {
        // GPT-2's byte-to-character table: printable Latin-1 bytes stand for themselves, the rest move to 256 and up.
        var vocab = new JsonObject();
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            vocab[((char)(printable ? b : 256 + next++)).ToString()] = b;
        }
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
}
