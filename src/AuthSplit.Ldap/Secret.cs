namespace AuthSplit.Ldap;

/// <summary>A credential that renders as <c>***</c> wherever it ends up: logs, exceptions, debuggers.</summary>
public sealed class Secret
{
    private readonly string _value;

    public Secret(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>The secret itself, for the one call that needs it.</summary>
    public string Reveal() => _value;

    public override string ToString() => "***";
}
