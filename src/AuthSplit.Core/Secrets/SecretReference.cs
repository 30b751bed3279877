using AuthSplit.Core.Errors;

namespace AuthSplit.Core.Secrets;

/// <summary>
/// How a plan names where a secret comes from, <c>env:NAME</c> or <c>file:PATH</c> (never the secret), and
/// how such a reference is read: through the project's one <see cref="SecretLoader"/>, with failures as
/// <see cref="InputException"/>s that name the variable or file, never a value.
/// </summary>
public static class SecretReference
{
    /// <summary>The reference for a configured environment variable or file (the variable wins when both are set); null when neither is.</summary>
    public static string? Of(string? variable, string? file) =>
        !string.IsNullOrWhiteSpace(variable) ? "env:" + variable.Trim()
        : !string.IsNullOrWhiteSpace(file) ? "file:" + file.Trim()
        : null;

    public static Secret Load(string reference, string what)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var source = reference switch
        {
            _ when reference.StartsWith("env:", StringComparison.Ordinal) => new SecretSource(reference[4..], null, reference, reference, what),
            _ when reference.StartsWith("file:", StringComparison.Ordinal) => new SecretSource(null, reference[5..], reference, reference, what),
            _ => throw new InputException(SecretLoader.ErrorCode, $"the source of {what} must be env:NAME or file:PATH, not \"{reference.Split(':')[0]}:...\""),
        };
        return SecretLoader.Load(source);
    }
}
