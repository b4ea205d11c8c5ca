namespace Peft.Llama.Benchmarks;

/// <summary>
/// A stand-in byte-level BPE vocabulary of the model's size. llama.cpp refuses a GGUF without a tokenizer even when it
/// is fed token ids, and wants unique token texts; the bench never tokenizes text, so real GPT-2 merges are not needed.
/// Ids 0-255 are the 256 bytes in GPT-2's byte-to-unicode spelling, the next ids are two-byte tokens each made by
/// one merge, and the last id is &lt;|endoftext|&gt; (a control token, bos and eos as in GPT-2).
/// </summary>
internal sealed class ByteLevelVocab
{
    public ByteLevelVocab(int size)
    {
        if (size < 258 || size - 257 > 256 * 256) throw new ArgumentOutOfRangeException(nameof(size), size, "Needs 258 to 65793 tokens.");
        string[] bytes = ByteToUnicode();
        var tokens = new List<string>(bytes);
        var merges = new List<string>();
        for (int k = 0; tokens.Count < size - 1; k++)
        {
            string a = bytes[k / 256], b = bytes[k % 256];
            tokens.Add(a + b);
            merges.Add($"{a} {b}");
        }
        tokens.Add("<|endoftext|>");
        Tokens = tokens;
        Merges = merges;
        // 1 = normal, 3 = control (llama_token_type).
        TokenTypes = [.. tokens.Select((_, i) => i == size - 1 ? 3 : 1)];
    }

    public IReadOnlyList<string> Tokens { get; }

    public IReadOnlyList<string> Merges { get; }

    public IReadOnlyList<int> TokenTypes { get; }

    public int EndOfText => Tokens.Count - 1;

    // GPT-2's bytes_to_unicode: printable Latin-1 bytes spell themselves, the rest map to U+0100 upwards in byte order.
    private static string[] ByteToUnicode()
    {
        var map = new string[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = ((char)(printable ? b : next++)).ToString();
        }
        return map;
    }
}
