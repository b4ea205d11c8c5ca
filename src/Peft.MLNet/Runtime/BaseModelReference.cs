using System.Security.Cryptography;

namespace Peft.MLNet.Runtime;

/// <summary>
/// Where a saved model's base model lives and what it was: the folder and a SHA-256 over the
/// files that define it (config.json, tokenizer.json and every weight file), so a model loaded
/// later can tell whether the folder still holds the same base and say what differs.
/// </summary>
/// <param name="Folder">The base model folder as it was given (absolute).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the files, in name order, each as its name, its length and its bytes.</param>
internal sealed record BaseModelReference(string Folder, string Sha256)
{
    /// <summary>The files that define a base model folder, in name order.</summary>
    public static IReadOnlyList<string> DefiningFiles(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The base model folder '{folder}' does not exist.");
        var files = Directory.GetFiles(folder)
            .Where(f => Path.GetFileName(f) is "config.json" or "tokenizer.json"
                || f.EndsWith(".safetensors", StringComparison.Ordinal)
                || f.EndsWith(".safetensors.index.json", StringComparison.Ordinal))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .ToArray();
        if (!files.Any(f => Path.GetFileName(f) == "config.json"))
            throw new FileNotFoundException(
                $"The base model folder '{folder}' has no config.json; give a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).",
                Path.Combine(folder, "config.json"));
        return files;
    }

    /// <summary>Hashes <paramref name="folder"/>'s defining files.</summary>
    public static BaseModelReference Of(string folder)
    {
        string full = Path.GetFullPath(folder);
        return new BaseModelReference(full, PeftBaseModels.HashOf(full));
    }

    /// <summary>The SHA-256 of a folder's defining files (each name, length and bytes, in name order).</summary>
    public static string HashOf(string folder)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (string file in DefiningFiles(folder))
        {
            using var stream = File.OpenRead(file);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{Path.GetFileName(file)}\n{stream.Length}\n"));
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) hash.AppendData(buffer, 0, read);
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }
}
