using AuthSplit.Core.Errors;
using AuthSplit.Core.Secrets;

namespace AuthSplit.Hooks.Secrets;

/// <summary>
/// A plan's reference to a secret, <c>env:NAME</c> or <c>file:PATH</c>, read by the project's one
/// <see cref="SecretLoader"/>. Failures are <see cref="InputException"/>s naming the variable or file, never a value.
/// </summary>
internal static class SecretReference
{
    public static Secret Load(string reference, string what)
    {
        var source = reference switch
        {
            _ when reference.StartsWith("env:", StringComparison.Ordinal) => new SecretSource(reference[4..], null, reference, reference, what),
            _ when reference.StartsWith("file:", StringComparison.Ordinal) => new SecretSource(null, reference[5..], reference, reference, what),
            _ => throw new InputException(SecretLoader.ErrorCode, $"the source of {what} must be env:NAME or file:PATH, not \"{reference.Split(':')[0]}:...\""),
        };
        return SecretLoader.Load(source);
    }
}
