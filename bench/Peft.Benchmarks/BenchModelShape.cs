using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;

namespace Peft.Benchmarks;

/// <summary>
/// A GPT-2 shape for random-weight benchmarks. The names and sizes are those of ../shared/bench/torchsharp (and
/// torch_gpt_peft.py), so a row run on both sides builds the same model: tiny and small are for checking that a
/// comparison runs, gpt2 (gpt2-small) is the one to measure.
/// </summary>
internal sealed record BenchModelShape(string Name, int Embedding, int Layers, int Heads, int Vocabulary, int Positions)
{
    /// <summary>gpt2-small: 12 layers, d=768, 12 heads, vocab 50257.</summary>
    public static BenchModelShape Gpt2 { get; } = new("gpt2", 768, 12, 12, 50257, 1024);

    /// <summary>The shapes by name: tiny, small, gpt2.</summary>
    public static IReadOnlyDictionary<string, BenchModelShape> All { get; } = new Dictionary<string, BenchModelShape>
    {
        ["tiny"] = new("tiny", 64, 2, 2, 256, 1024),
        ["small"] = new("small", 256, 4, 4, 8192, 1024),
        ["gpt2"] = Gpt2,
    };

    /// <summary>The shape called <paramref name="name"/>, or a usage error listing the names.</summary>
    public static BenchModelShape Get(string name) => All.TryGetValue(name, out var shape)
        ? shape
        : throw new ArgumentException($"Unknown size '{name}'; use one of {string.Join(", ", All.Keys)}.");

    /// <summary>The model configuration of this shape.</summary>
    public ModelConfig Config() => ModelConfig.Parse(new JsonObject
    {
        ["model_type"] = "gpt2", ["vocab_size"] = Vocabulary, ["n_embd"] = Embedding, ["n_layer"] = Layers, ["n_head"] = Heads,
        ["n_positions"] = Positions,
    }.ToJsonString(), $"{Name} benchmark config");
}
