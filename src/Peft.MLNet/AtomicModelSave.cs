using Microsoft.ML;
using Peft.Transformers.Loading;

namespace Peft.MLNet;

/// <summary>
/// Saving a model so that a failed save leaves nothing behind. ML.NET's
/// <c>Model.Save(model, schema, path)</c> creates the file first and writes into it, so a transform
/// that cannot be saved, a full disk or a cancelled process leaves a damaged zip at the path (and the
/// previous model there is gone).
/// </summary>
public static class AtomicModelSave
{
    /// <summary>
    /// Writes the model as <c>Model.Save</c> does, into a temporary file beside <paramref name="filePath"/>,
    /// flushes it to disk and moves it over the path only when the whole zip was written: on failure the path keeps what it
    /// held (or stays absent) and the temporary file is deleted.
    /// </summary>
    /// <param name="catalog">The context's model operations (<c>mlContext.Model</c>).</param>
    /// <param name="model">The fitted model.</param>
    /// <param name="inputSchema">Its input schema.</param>
    /// <param name="filePath">The zip to write.</param>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="filePath"/> does not exist.</exception>
    /// <exception cref="WriteFailedException">The file system refused the write (disk full, read-only destination, ...).</exception>
    public static void SaveAtomically(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);
        string full = Path.GetFullPath(filePath);
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot save the model to '{full}': the folder '{folder}' does not exist.");
        // A temporary file in the same folder, flushed to disk, renamed over the path (one file system), the rename flushed.
        AtomicFile.Write(full, stream => catalog.Save(model, inputSchema, stream));
    }
}
