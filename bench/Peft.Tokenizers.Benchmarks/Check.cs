using System.Text.Json;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>Before timing: both tokenizers of a pair give the same ids on the corpus and on the fixture texts.</summary>
internal static class Check
{
    public static void Run()
    {
        Console.WriteLine($"corpus: {Corpus.Paragraphs.Length:N0} paragraphs, {Corpus.Bytes:N0} UTF-8 bytes");
        foreach (string name in new[] { "gpt2", "llama3", "mistral" })
        {
            var (ours, theirs) = Tokenizers.Pair(name);
            int tokens = 0, differ = 0;
            foreach (string p in Corpus.Paragraphs)
            {
                var a = ours.Encode(p, addSpecialTokens: false).Ids;
                tokens += a.Count;
                if (!a.SequenceEqual(theirs.EncodeToIds(p))) differ++;
                int bos = ours.BosTokenId is not null && name == "mistral" ? 1 : 0;
                if (!a.SequenceEqual(((MLTokenizer)ours).EncodeToIds(p).Skip(bos))) throw new InvalidOperationException("EncodeToIds differs from Encode");
            }
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Corpus.FixtureFolder(name), "cases.json")));
            var fixtureDiffs = doc.RootElement.EnumerateArray().Select(c => c.GetProperty("text").GetString()!).Distinct()
                .Where(t => !t.Contains('<') && !ours.Encode(t, false).Ids.SequenceEqual(theirs.EncodeToIds(t))).ToList();
            Console.WriteLine($"{name}: {tokens:N0} tokens, {differ} corpus paragraphs differ; fixture texts (without '<') that differ: {fixtureDiffs.Count}");
            foreach (var t in fixtureDiffs.Take(5))
                Console.WriteLine($"  {JsonSerializer.Serialize(t)}: ours {string.Join(",", ours.Encode(t, false).Ids)} " +
                    $"theirs {string.Join(",", theirs.EncodeToIds(t))}");
        }
    }
}
