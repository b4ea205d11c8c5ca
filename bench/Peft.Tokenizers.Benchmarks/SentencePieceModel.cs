using System.Text;
using System.Text.Json.Nodes;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>
/// Writes a SentencePiece <c>.model</c> (the ModelProto protobuf that ML.NET's LlamaTokenizer
/// reads) from a SentencePiece-BPE tokenizer.json, so both libraries run on the same vocabulary:
/// piece ids as in the vocabulary, each merged piece scored −(rank of the merge that makes it) so
/// SentencePiece's highest-score-first merging follows the merges' order, &lt;0xXX&gt; pieces as
/// bytes with byte fallback, <c>&lt;unk&gt;</c>/<c>&lt;s&gt;</c>/<c>&lt;/s&gt;</c> as unknown and
/// control pieces, and a dummy-prefix, whitespace-escaping identity normalizer.
/// </summary>
internal static class SentencePieceModel
{
    public static byte[] FromTokenizerJson(string path)
    {
        var model = JsonNode.Parse(File.ReadAllText(path))!["model"]!;
        var vocab = model["vocab"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<int>());
        var pieces = new string[vocab.Count];
        foreach (var (piece, id) in vocab) pieces[id] = piece;
        var score = new Dictionary<string, float>();
        var merges = model["merges"]!.AsArray();
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var merge = merges[rank]!;
            string merged = merge is JsonArray pair ? pair[0]!.GetValue<string>() + pair[1]!.GetValue<string>() : merge.GetValue<string>().Replace(" ", "");
            score.TryAdd(merged, -rank);
        }
        var proto = new MemoryStream();
        for (int id = 0; id < pieces.Length; id++)
        {
            string piece = pieces[id];
            int type = piece switch
            {
                "<unk>" => 2,
                "<s>" or "</s>" => 3,
                _ when piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece.EndsWith('>') => 6,
                _ => 1,
            };
            var entry = new MemoryStream();
            WriteString(entry, 1, piece);
            WriteFloat(entry, 2, type == 1 ? score.GetValueOrDefault(piece, -1e9f) : 0f);
            WriteVarint(entry, 3, type);
            WriteMessage(proto, 1, entry);
        }
        var trainer = new MemoryStream();
        WriteVarint(trainer, 3, 2); // model_type = BPE
        WriteVarint(trainer, 4, pieces.Length);
        WriteVarint(trainer, 35, 1); // byte_fallback
        WriteVarint(trainer, 40, vocab["<unk>"]);
        WriteVarint(trainer, 41, vocab["<s>"]);
        WriteVarint(trainer, 42, vocab["</s>"]);
        WriteMessage(proto, 2, trainer);
        var normalizer = new MemoryStream();
        WriteString(normalizer, 1, "identity");
        WriteVarint(normalizer, 3, 1); // add_dummy_prefix
        WriteVarint(normalizer, 4, 0); // remove_extra_whitespaces
        WriteVarint(normalizer, 5, 1); // escape_whitespaces
        WriteMessage(proto, 3, normalizer);
        return proto.ToArray();
    }

    private static void WriteTag(Stream s, int field, int wireType) => WriteRaw(s, (ulong)((field << 3) | wireType));

    private static void WriteRaw(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }

    private static void WriteVarint(Stream s, int field, int value)
    {
        WriteTag(s, field, 0);
        WriteRaw(s, (ulong)(long)value);
    }

    private static void WriteFloat(Stream s, int field, float value)
    {
        WriteTag(s, field, 5);
        s.Write(BitConverter.GetBytes(value));
    }

    private static void WriteString(Stream s, int field, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteTag(s, field, 2);
        WriteRaw(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteMessage(Stream s, int field, MemoryStream message)
    {
        WriteTag(s, field, 2);
        WriteRaw(s, (ulong)message.Length);
        message.Position = 0;
        message.CopyTo(s);
    }
}
