namespace AuthSplit.Core.Errors;

/// <summary>
/// Input the user can fix: a config value, an LDIF line, a plan file, a decisions file. The CLI maps it
/// to exit code 2 and prints <see cref="Exception.Message"/> as one line; it never carries a secret.
/// </summary>
public sealed class InputException : Exception
{
    public InputException(string code, string message, string? source = null, int? line = null)
        : base(Format(message, source, line))
    {
        Code = code;
        Origin = source;
        Line = line;
    }

    public InputException()
        : this("input", "invalid input")
    {
    }

    public InputException(string message)
        : this("input", message)
    {
    }

    public InputException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = "input";
    }

    /// <summary>A stable, documented code such as <c>ldif-syntax</c> or <c>config-invalid</c>.</summary>
    public string Code { get; }

    /// <summary>The file (or config key) at fault.</summary>
    public string? Origin { get; }

    public int? Line { get; }

    private static string Format(string message, string? source, int? line) =>
        source is null ? message : line is null ? $"{source}: {message}" : $"{source}:{line}: {message}";
}
