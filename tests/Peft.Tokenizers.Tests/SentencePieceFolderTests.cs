using Microsoft.ML.Tokenizers;
using Peft.Tokenizers.Benchmarks;

namespace Peft.Tokenizers.Tests;

/// <summary>A model folder with tokenizer.model and no tokenizer.json loads through ML.NET's SentencePiece tokenizer.</summary>
[TestClass]
public sealed class SentencePieceFolderTests
{
    [TestMethod]
    public void FolderWithOnlyTokenizerModelEncodesLikeTheTokenizerJson()
    {
        string mistral = TokenizerFixtureTests.Folder("mistral");
        string folder = Directory.CreateTempSubdirectory("peft-spm-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "tokenizer.model"), SentencePieceModel.FromTokenizerJson(Path.Combine(mistral, Tokenizer.FileName)));
            File.Copy(Path.Combine(mistral, "tokenizer_config.json"), Path.Combine(folder, "tokenizer_config.json"));
            var loaded = Tokenizer.TryLoad(folder);
            Assert.IsNotNull(loaded);
            Assert.IsInstanceOfType<SentencePieceTokenizer>(loaded.WrappedTokenizer);
            var json = TokenizerFixtureTests.Get("mistral");
            Assert.AreEqual(json.BosTokenId, loaded.BosTokenId);
            Assert.AreEqual(json.EosTokenId, loaded.EosTokenId);
            Assert.AreEqual(json.VocabularySize, loaded.VocabularySize);
            foreach (string text in new[] { "Hello world", "The quick brown fox jumps over the lazy dog.", "café naïve résumé", "I love 🍕 and 中文", "  two spaces" })
            {
                var expected = json.Encode(text);
                var actual = loaded.Encode(text);
                CollectionAssert.AreEqual(expected.Ids.ToArray(), actual.Ids.ToArray(), text);
                CollectionAssert.AreEqual(json.Encode(text, false).Ids.ToArray(), loaded.Encode(text, false).Ids.ToArray(), text);
                Assert.AreEqual(json.Decode(expected.Ids, skipSpecialTokens: true), loaded.Decode(actual.Ids, skipSpecialTokens: true), text);
            }
            Assert.AreSame(typeof(SentencePieceTokenizer), Tokenizer.Load(Path.Combine(folder, "tokenizer.model")).WrappedTokenizer!.GetType());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void AnUnreadableModelFileIsAFormatError()
    {
        string folder = Directory.CreateTempSubdirectory("peft-spm-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "tokenizer.model"), "not a protobuf");
            Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.Load(folder));
            Assert.ThrowsExactly<FileNotFoundException>(() => Tokenizer.Load(Path.Combine(folder, "missing")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
