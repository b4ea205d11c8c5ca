using System.Collections.Concurrent;
using Peft.Tokenizers;
using Peft.Tokenizers.Interop;
using Peft.Transformers.Loading;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Peft.MLNet.Runtime;

/// <summary>
/// Where saved models find their base model. A model saved with <c>mlContext.Model.Save</c>
/// carries its base model's folder and a SHA-256 of its files, not the weights; when it is used
/// after <c>Model.Load</c>, a folder registered here with the same files wins, otherwise the saved
/// folder is used if it still holds the same files. Register a folder when the base has moved
/// (another machine, a container). A model trained with a tokenizer supplied in code
/// (<see cref="PeftTrainingOptions.Tokenizer"/>) finds it the same way: register that tokenizer
/// with <see cref="RegisterTokenizer"/> in the process that loads the model.
/// </summary>
public static class PeftBaseModels
{
    private static readonly ConcurrentDictionary<string, string> ByHash = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, (DateTime Stamp, string Hash)> HashCache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Tokenizer> TokenizersByFingerprint = new(StringComparer.Ordinal);

    /// <summary>Makes <paramref name="folder"/> the base model for every saved model whose base had the same files.</summary>
    /// <returns>The folder's SHA-256 (what saved models compare).</returns>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">No config.json in it.</exception>
    public static string Register(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string full = Path.GetFullPath(folder);
        string hash = HashOf(full);
        ByHash[hash] = full;
        return hash;
    }

    /// <summary>
    /// Makes <paramref name="tokenizer"/> (with the special ids in <paramref name="specialTokens"/>) the
    /// tokenizer of every saved model that was trained with an equal one supplied in code. Models whose
    /// tokenizer is the base folder's tokenizer.json need no registration.
    /// </summary>
    /// <param name="tokenizer">Any Microsoft.ML.Tokenizers tokenizer, ours included.</param>
    /// <param name="specialTokens">The model's bos/eos/pad ids where the tokenizer does not know them, as given in training.</param>
    /// <returns>The tokenizer's fingerprint (what saved models compare: its ids on a fixed probe text and its special ids).</returns>
    public static string RegisterTokenizer(MLTokenizer tokenizer, MLTokenizerOptions? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var wrapped = Tokenizer.FromMLTokenizer(tokenizer, specialTokens);
        string fingerprint = TokenizerFingerprint.Of(wrapped);
        TokenizersByFingerprint[fingerprint] = wrapped;
        return fingerprint;
    }

    /// <summary>Forgets every registered folder and tokenizer.</summary>
    public static void Clear()
    {
        ByHash.Clear();
        TokenizersByFingerprint.Clear();
    }

    /// <summary>
    /// The tokenizer of a saved model: the base folder's tokenizer.json, or, when the model was
    /// trained with one supplied in code (<paramref name="suppliedFingerprint"/> not null), the one registered for it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model needs a supplied tokenizer and none with its fingerprint is registered.</exception>
    internal static Tokenizer ResolveTokenizer(string folder, string? suppliedFingerprint)
    {
        if (suppliedFingerprint is null) return Tokenizer.Load(folder);
        if (TokenizersByFingerprint.TryGetValue(suppliedFingerprint, out var tokenizer)) return tokenizer;
        throw new InvalidOperationException(
            "This model was trained with a tokenizer supplied in code (PeftTrainingOptions.Tokenizer), which a saved model cannot carry. " +
            "Call PeftBaseModels.RegisterTokenizer(tokenizer, specialTokens) with the same tokenizer and special ids before using the model " +
            $"(fingerprint {suppliedFingerprint[..12]}…; a registered tokenizer that encodes differently does not match).");
    }

    /// <summary>The folder holding the base that <paramref name="reference"/> names.</summary>
    /// <exception cref="InvalidOperationException">
    /// Neither a registered folder nor the saved one holds those files; the message says what differs and what to do.
    /// </exception>
    internal static string Resolve(BaseModelReference reference)
    {
        if (ByHash.TryGetValue(reference.Sha256, out string? registered)) return registered;
        if (!Directory.Exists(reference.Folder))
            throw new InvalidOperationException(
                $"The model's base model folder '{reference.Folder}' does not exist. Copy the base model there, or call " +
                $"PeftBaseModels.Register(\"<folder>\") with a folder holding the same files (SHA-256 {reference.Sha256}) before using the model.");
        string found = HashOf(reference.Folder);
        if (found != reference.Sha256)
            throw new InvalidOperationException(
                $"The base model folder '{reference.Folder}' holds other files than the model was trained on " +
                $"(SHA-256 {found}, expected {reference.Sha256}: config.json, tokenizer.json or the weights changed). " +
                "Restore the original base, or register a folder with it through PeftBaseModels.Register.");
        return reference.Folder;
    }

    /// <summary>A folder's hash, remembered while none of its defining files changes.</summary>
    internal static string HashOf(string folder)
    {
        var files = BaseModelReference.DefiningFiles(folder);
        // Sizes and times of the files links point to (a hub-cache folder is links into its blob store).
        var targets = files.Select(ResolvedFile.Info).ToList();
        var stamp = targets.Select(f => f.LastWriteTimeUtc).Max();
        string key = folder + "|" + string.Join("|", targets.Select(f => f.Length));
        if (HashCache.TryGetValue(key, out var cached) && cached.Stamp == stamp) return cached.Hash;
        string hash = BaseModelReference.HashOf(folder);
        HashCache[key] = (stamp, hash);
        return hash;
    }
}
