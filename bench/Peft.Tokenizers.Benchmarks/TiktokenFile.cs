using System.Text;
using System.Text.Json.Nodes;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>
/// A tiktoken ranks file (base64 token bytes, space, rank per line) written from a byte-level BPE
/// tokenizer.json whose ids are its ranks (Llama 3's vocabulary came from tiktoken this way round),
/// so ML.NET's TiktokenTokenizer runs on the same vocabulary. Also returns the Split regex and the
/// added (special) tokens.
/// </summary>
internal static class TiktokenFile
{
    public static (MemoryStream Ranks, string Pattern, Dictionary<string, int> Special) FromTokenizerJson(string path)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        var byteOf = ByteOfCharacter();
        var text = new StringBuilder();
        foreach (var (token, id) in json["model"]!["vocab"]!.AsObject())
        {
            var bytes = token.Select(c => byteOf[c]).ToArray();
            text.Append(Convert.ToBase64String(bytes)).Append(' ').Append(id!.GetValue<int>()).Append('\n');
        }
        string pattern = json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"]!.GetValue<string>();
        var special = json["added_tokens"]!.AsArray().ToDictionary(t => t!["content"]!.GetValue<string>(), t => t!["id"]!.GetValue<int>());
        return (new MemoryStream(Encoding.UTF8.GetBytes(text.ToString())), pattern, special);
    }

    /// <summary>GPT-2's byte alphabet read backwards: printable Latin-1 bytes stand for themselves, the rest from U+0100 on.</summary>
    private static Dictionary<char, byte> ByteOfCharacter()
    {
        var map = new Dictionary<char, byte>();
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[printable ? (char)b : (char)(256 + next++)] = (byte)b;
        }
        return map;
    }
}
