using Microsoft.ML.Tokenizers;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>The pairs compared: our tokenizer.json tokenizer and ML.NET's on the same vocabulary.</summary>
internal static class Tokenizers
{
    /// <summary>
    /// "gpt2": our byte-level BPE and TiktokenTokenizer("gpt2"); "llama3": ours and TiktokenTokenizer on ranks written from
    /// the same tokenizer.json, with its Split regex; "mistral": our SentencePiece BPE and LlamaTokenizer on a .model written
    /// from the same tokenizer.json.
    /// </summary>
    public static (Tokenizer Ours, MLTokenizer Theirs) Pair(string name)
    {
        var ours = Tokenizer.Load(Corpus.FixtureFolder(name));
        MLTokenizer theirs = name switch
        {
            "gpt2" => TiktokenTokenizer.CreateForModel("gpt2"),
            "llama3" => Llama3Tiktoken(Path.Combine(Corpus.FixtureFolder(name), Tokenizer.FileName)),
            "mistral" => LlamaTokenizer.Create(
                new MemoryStream(SentencePieceModel.FromTokenizerJson(Path.Combine(Corpus.FixtureFolder(name), Tokenizer.FileName))),
                addBeginOfSentence: false, addEndOfSentence: false),
            _ => throw new ArgumentException($"No ML.NET counterpart for {name}.", nameof(name)),
        };
        return (ours, theirs);
    }

    private static TiktokenTokenizer Llama3Tiktoken(string tokenizerJson)
    {
        var (ranks, pattern, special) = TiktokenFile.FromTokenizerJson(tokenizerJson);
        var preTokenizer = new RegexPreTokenizer(new System.Text.RegularExpressions.Regex(pattern,
            System.Text.RegularExpressions.RegexOptions.Compiled | System.Text.RegularExpressions.RegexOptions.CultureInvariant), special);
        return TiktokenTokenizer.Create(ranks, preTokenizer, normalizer: null, specialTokens: special);
    }
}
