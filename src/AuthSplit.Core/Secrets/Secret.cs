using System.Diagnostics;

namespace AuthSplit.Core.Secrets;

/// <summary>
/// A credential (bind password, client secret, bearer token, certificate or signing-key password) that
/// renders as <c>***</c> wherever it ends up: logs, exception messages, string interpolation, debuggers.
/// It has no public property, so a structured logger that destructures it finds nothing to print.
/// </summary>
[DebuggerDisplay("***")]
public sealed class Secret
{
    private readonly string _value;

    public Secret(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        _value = value;
    }

    /// <summary>The secret itself, for the one call that needs it.</summary>
    public string Reveal() => _value;

    public override string ToString() => "***";
}
