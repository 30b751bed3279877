namespace AuthSplit.Hooks.Output;

/// <summary>
/// Holds a stream's bytes until they can be hashed after another's (a hook's stderr after its stdout):
/// in memory up to <see cref="MemoryLimit"/>, then in a temporary file deleted on dispose, so a hook that
/// prints gigabytes to stderr costs disk for the run, not memory.
/// </summary>
internal sealed class SpooledBuffer : IDisposable
{
    public const int MemoryLimit = 64 * 1024;

    private Stream _store = new MemoryStream();

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_store is MemoryStream memory && memory.Length + data.Length > MemoryLimit)
        {
            var file = new FileStream(Path.Combine(Path.GetTempPath(), "authsplit-hook-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            memory.Position = 0;
            memory.CopyTo(file);
            memory.Dispose();
            _store = file;
        }

        _store.Write(data);
    }

    public void CopyTo(OutputCapture capture)
    {
        _store.Position = 0;
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = _store.Read(buffer)) > 0)
        {
            capture.Append(buffer.AsSpan(0, read));
        }
    }

    public void Dispose() => _store.Dispose();
}
