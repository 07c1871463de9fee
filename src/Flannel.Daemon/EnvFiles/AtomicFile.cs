using System.Runtime.Versioning;
using System.Text;

namespace Flannel.Daemon.EnvFiles;

/// <summary>Replaces a file in one step, so that a reader sees either the old or the new content, never a mix.</summary>
[SupportedOSPlatform("linux")]
internal static class AtomicFile
{
    /// <summary>rw-r--r--: the mode of the files written (flanneld HEAD writes subnet.env 0644 whatever the umask).</summary>
    public const UnixFileMode FileMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>rwxr-xr-x: the mode of the parent directories created.</summary>
    public const UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Writes <paramref name="content"/> (UTF-8, no byte order mark) to <paramref name="path"/>: creates missing
    /// parent directories (0755), writes a temporary file in the same directory, flushes it to disk, gives it mode
    /// 0644 regardless of the umask and renames it over <paramref name="path"/> (rename(2) is atomic). The temporary
    /// file is removed when any step fails; the exception is passed on.
    /// </summary>
    public static void Write(string path, string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(content);
        string fullPath = Path.GetFullPath(path);
        string name = Path.GetFileName(fullPath);
        string? directory = Path.GetDirectoryName(fullPath);
        if (name.Length == 0 || directory is null)
        {
            throw new ArgumentException($"not a file path: '{path}'", nameof(path));
        }

        CreateDirectories(directory);
        string temp = Path.Combine(directory, $".{name}.{Guid.NewGuid():N}.tmp");
        bool renamed = false;
        try
        {
            var options = new FileStreamOptions
            {
                Mode = System.IO.FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = FileMode,
            };
            using (var stream = new FileStream(temp, options))
            {
                // The create mode above is reduced by the umask; chmod is not.
                File.SetUnixFileMode(stream.SafeFileHandle, FileMode);
                stream.Write(Utf8NoBom.GetBytes(content));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
            renamed = true;
        }
        finally
        {
            if (!renamed)
            {
                TryDelete(temp);
            }
        }
    }

    private static void CreateDirectories(string directory)
    {
        var missing = new Stack<string>();
        for (string? d = directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d))
        {
            missing.Push(d);
        }
        while (missing.TryPop(out var d))
        {
            Directory.CreateDirectory(d, DirectoryMode);
            File.SetUnixFileMode(d, DirectoryMode);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original failure is what the caller needs to see.
        }
    }
}
