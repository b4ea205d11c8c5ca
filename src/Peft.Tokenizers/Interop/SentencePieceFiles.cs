using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Peft.Tokenizers.Interop;

/// <summary>
/// Model folders that ship a SentencePiece model (<c>tokenizer.model</c>, <c>spiece.model</c>,
/// <c>sentencepiece.bpe.model</c>) but no tokenizer.json: ML.NET's SentencePiece tokenizer reads
/// it, wrapped with the special tokens and bos/eos settings of tokenizer_config.json.
/// </summary>
internal static class SentencePieceFiles
{
    public static readonly string[] FileNames = ["tokenizer.model", "spiece.model", "sentencepiece.bpe.model"];

    /// <summary>The SentencePiece model file of a folder, or null.</summary>
    public static string? Find(string folder) =>
        FileNames.Select(name => Path.Combine(folder, name)).FirstOrDefault(File.Exists);

    public static Tokenizer Load(string modelFile)
    {
        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelFile))!, "tokenizer_config.json");
        using var doc = File.Exists(config) ? JsonDocument.Parse(File.ReadAllText(config)) : JsonDocument.Parse("{}");
        var root = doc.RootElement;
        bool Flag(string name, bool fallback) =>
            root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
        SentencePieceTokenizer inner;
        try
        {
            using var stream = File.OpenRead(modelFile);
            // Llama's defaults: bos added, eos not.
            inner = SentencePieceTokenizer.Create(stream, Flag("add_bos_token", true), Flag("add_eos_token", false));
        }
        catch (Exception ex) when (ex is not IOException and not UnauthorizedAccessException)
        {
            throw new TokenizerFormatException($"{modelFile}: not a SentencePiece model ML.NET can read ({ex.Message}).", ex);
        }
        int? Id(string name)
        {
            if (!root.TryGetProperty(name, out var v)) return null;
            string? content = v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Object when v.TryGetProperty("content", out var c) => c.GetString(),
                _ => null,
            };
            return content is not null && inner.Vocabulary.TryGetValue(content, out int id) ? id : null;
        }
        return Tokenizer.FromMLTokenizer(inner, new MLTokenizerOptions
        {
            BosTokenId = Id("bos_token"), EosTokenId = Id("eos_token"), PadTokenId = Id("pad_token"), UnkTokenId = Id("unk_token"),
        });
    }
}
