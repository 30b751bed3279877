using AuthSplit.Core.Errors;

namespace AuthSplit.Core.Secrets;

/// <summary>
/// The one way a secret is read, for every adapter: from the environment variable when one is named,
/// otherwise from the file. One rule for both: the secret is the first line, without its line end (LF or
/// CRLF); nothing else is trimmed, since spaces can be part of a password. Every failure is an
/// <see cref="InputException"/> with the code <see cref="ErrorCode"/> naming the setting, never the value.
/// </summary>
public static class SecretLoader
{
    /// <summary>The code of every secret that is configured but cannot be read, or is not configured at all.</summary>
    public const string ErrorCode = "secret-missing";

    /// <summary>Reads a secret that must be there.</summary>
    public static Secret Load(SecretSource source, Func<string, string?>? environment = null) =>
        LoadOptional(source, environment)
        ?? throw new InputException(ErrorCode, $"{source.VariableKey} or {source.FileKey} must say where {source.What} is; secrets are never read from the config file");

    /// <summary>Reads a secret that may be absent (e.g. the password of an unencrypted certificate): null when neither place is configured.</summary>
    public static Secret? LoadOptional(SecretSource source, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!string.IsNullOrWhiteSpace(source.Variable))
        {
            var value = FirstLine(environment(source.Variable));
            return value.Length == 0
                ? throw new InputException(ErrorCode, $"the environment variable {source.Variable} (named by {source.VariableKey}) is not set or empty; export {source.What} in it before running")
                : new Secret(value);
        }

        if (string.IsNullOrWhiteSpace(source.File))
        {
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText(source.File);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException(ErrorCode, $"cannot read the file named by {source.FileKey}: {ex.Message}", source.File);
        }

        var first = FirstLine(text);
        return first.Length == 0
            ? throw new InputException(ErrorCode, $"the first line of the file named by {source.FileKey} is empty; it must be {source.What}", source.File)
            : new Secret(first);
    }

    /// <summary>The trimming rule: everything before the first line feed, without a carriage return before it.</summary>
    public static string FirstLine(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        var end = text.IndexOf('\n', StringComparison.Ordinal);
        var line = end < 0 ? text : text[..end];
        return line.TrimEnd('\r');
    }
}
