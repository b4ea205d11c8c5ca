namespace Peft.Transformers.Loading;

/// <summary>
/// The file a path names after following symbolic links. Hugging Face's hub cache lays model folders out as links
/// into a blob store (snapshots/REV/model.safetensors -> ../../blobs/SHA), and a <see cref="FileInfo"/> of the link
/// reports the link's own size and times, not the weights'.
/// </summary>
public static class ResolvedFile
{
    /// <summary>
    /// A <see cref="FileInfo"/> of the final target of <paramref name="path"/> (the path itself when it is no link); a
    /// dangling link gives one whose <see cref="FileSystemInfo.Exists"/> is false.
    /// </summary>
    public static FileInfo Info(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (info.LinkTarget is null) return info;
        return info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
    }
}
