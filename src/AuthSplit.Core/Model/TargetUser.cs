namespace AuthSplit.Core.Model;

/// <summary>
/// A user of the target IdP (Entra ID) as Graph returns it. <see cref="Properties"/> holds every
/// scalar property that was read (names as Graph spells them, compared case-insensitively), so that
/// matching rules can name any of them; values are Graph's JSON scalars rendered as invariant text.
/// </summary>
public sealed record TargetUser
{
    public TargetUser(string id, IReadOnlyDictionary<string, string?> properties)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        Id = id;
        Properties = properties is Dictionary<string, string?> { Comparer: var comparer } dictionary
            && ReferenceEquals(comparer, StringComparer.OrdinalIgnoreCase)
            ? dictionary
            : new Dictionary<string, string?>(properties, StringComparer.OrdinalIgnoreCase);
    }

    public string Id { get; }

    public IReadOnlyDictionary<string, string?> Properties { get; }

    public string? UserPrincipalName => Get("userPrincipalName");

    /// <summary>Graph's <c>accountEnabled</c>; null when it was not selected.</summary>
    public bool? AccountEnabled => Get("accountEnabled") is { } text ? bool.Parse(text) : null;

    public string? Get(string property) => Properties.TryGetValue(property, out var value) ? value : null;
}
