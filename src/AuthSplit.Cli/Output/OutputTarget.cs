using AuthSplit.Core.Errors;

namespace AuthSplit.Cli.Output;

/// <summary>How an output is written, decided before anything is read.</summary>
public enum OutputMode
{
    /// <summary>A new path or a regular file: written beside it and renamed into place (the old file stays whole until then).</summary>
    Atomic,

    /// <summary>A character device, FIFO or socket, or anything under /dev or /proc: written in place as a stream, never renamed over.</summary>
    Stream,

    /// <summary><c>-</c> or <c>/dev/stdout</c>: the process's standard output (the summary then goes to stderr).</summary>
    StandardOutput,
}

/// <summary>An output the run may write, and what the operator named it.</summary>
public sealed record OutputTarget(string Option, string Given, OutputMode Mode, string WritePath)
{
    public const string StandardOutputName = "-";

    private static readonly string[] StandardOutputAliases = ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];

    /// <summary>Where scratch files go: beside an atomic output, else in the temporary directory.</summary>
    public string ScratchDirectory => Mode == OutputMode.Atomic ? Path.GetDirectoryName(WritePath)! : Path.GetTempPath();

    /// <summary>
    /// Checks an output file path before the run reads anything: not empty, not a directory, and not any of the
    /// run's <paramref name="inputs"/> — compared by real path (through links and relative paths) and by
    /// device and inode (hard links). Bad input (exit 2) names both paths.
    /// </summary>
    public static OutputTarget ForFile(string option, string? path, IEnumerable<(string Option, string? Path)> inputs)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InputException("output-invalid", $"{option}: the output path is empty; give the path of the file to write (or - for standard output)");
        }

        // The process's own stdout, however the shell set it up (terminal, pipe, > file, >> file): written
        // through the descriptor it has, never opened anew, truncated or renamed over.
        if (path == StandardOutputName || StandardOutputAliases.Contains(path, StringComparer.Ordinal))
        {
            return new OutputTarget(option, path, OutputMode.StandardOutput, path);
        }

        var identity = UnixFile.Identify(path);
        if (identity.Kind == FileKind.Directory)
        {
            throw new InputException("output-invalid", $"{option} \"{path}\" is a directory; give the path of the file to write");
        }

        var fullPath = Path.GetFullPath(path);
        var special = identity.Kind == FileKind.Special
            || fullPath.StartsWith("/dev/", StringComparison.Ordinal)
            || fullPath.StartsWith("/proc/", StringComparison.Ordinal);
        var target = special
            ? new OutputTarget(option, path, OutputMode.Stream, fullPath)
            : new OutputTarget(option, path, OutputMode.Atomic, UnixFile.CanonicalPath(path));
        if (special && identity.Kind != FileKind.Regular)
        {
            return target;
        }

        foreach (var (inputOption, inputPath) in inputs)
        {
            if (inputPath is null)
            {
                continue;
            }

            var input = UnixFile.Identify(inputPath);
            var sameFile = identity.Kind != FileKind.Missing && input.Kind != FileKind.Missing && identity.SameFileAs(input);
            var inside = input.Kind == FileKind.Directory && IsWithin(target.WritePath, input.RealPath);
            if (sameFile || inside)
            {
                throw new InputException(
                    "output-is-input",
                    $"{option} \"{path}\" {(sameFile ? "is the same file as" : "is inside")} the input {inputOption} \"{inputPath}\": an output must never overwrite an input; write it elsewhere");
            }
        }

        return target;
    }

    /// <summary>
    /// Checks a directory the run will write files and subdirectories into (<c>--save-snapshot</c>): it must
    /// not be a file, and none of <paramref name="writes"/> (its paths relative to the directory) may overlap
    /// an input or another output.
    /// </summary>
    public static void ForDirectory(string option, string? directory, IReadOnlyList<string> writes, IEnumerable<(string Option, string? Path)> inputs, IEnumerable<OutputTarget> otherOutputs)
    {
        if (directory is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new InputException("output-invalid", $"{option}: the directory path is empty");
        }

        var identity = UnixFile.Identify(directory);
        if (identity.Kind is FileKind.Regular or FileKind.Special)
        {
            throw new InputException("output-invalid", $"{option} \"{directory}\" is a file, not a directory");
        }

        var root = UnixFile.CanonicalPath(directory);
        var written = writes.Select(w => Path.Combine(root, w)).ToList();
        foreach (var (inputOption, inputPath) in inputs)
        {
            if (inputPath is null || UnixFile.Identify(inputPath) is not { Kind: not FileKind.Missing } input)
            {
                continue;
            }

            foreach (var path in written)
            {
                var output = UnixFile.Identify(path);
                if (IsWithin(input.RealPath, path) || IsWithin(path, input.RealPath) || (output.Kind != FileKind.Missing && output.SameFileAs(input)))
                {
                    throw new InputException(
                        "output-is-input",
                        $"{option} \"{directory}\" would write {Path.GetFileName(path)} over the input {inputOption} \"{inputPath}\": save the snapshot in another directory");
                }
            }
        }

        foreach (var other in otherOutputs.Where(o => o.Mode == OutputMode.Atomic))
        {
            if (written.Any(path => IsWithin(other.WritePath, path)))
            {
                throw new InputException(
                    "output-overlap",
                    $"{other.Option} \"{other.Given}\" is inside what {option} \"{directory}\" replaces: write them to different places");
            }
        }
    }

    private static bool IsWithin(string path, string directory) =>
        string.Equals(path, directory, StringComparison.Ordinal)
        || path.StartsWith(Path.TrimEndingDirectorySeparator(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
