using AuthSplit.Core.Directory;

namespace AuthSplit.Core.Execution.Safety;

/// <summary>
/// The only legacy writes an entity's steps may make, checked before each is sent: a modify or delete of
/// the entity's own entry at its planned DN (inside the wave's base DN) or at its quarantine DN; the move
/// from the planned DN to the quarantine container; and, before a delete on OpenLDAP, removing exactly the
/// entity's own DN from a group's membership attribute (the group may lie anywhere under the source's base
/// DN: leaving the DN there would leave a dangling reference, and no other value of the group is touched).
/// Anything else throws <see cref="WriteOutsideScopeException"/>, which ends the entity refused.
/// </summary>
internal sealed class EntityWriteScope
{
    private static readonly string[] MembershipAttributes = ["member", "uniqueMember"];

    private readonly ILegacyDirectoryWriter _writer;
    private readonly DistinguishedName _sourceBase;
    private readonly DistinguishedName _waveBase;
    private readonly DistinguishedName _planned;
    private readonly DistinguishedName? _quarantineParent;
    private readonly DistinguishedName? _quarantined;

    public EntityWriteScope(ILegacyDirectoryWriter writer, DistinguishedName sourceBase, DistinguishedName waveBase, DistinguishedName planned, DistinguishedName? quarantineParent)
    {
        _writer = writer;
        _sourceBase = sourceBase;
        _waveBase = waveBase;
        _planned = planned;
        _quarantineParent = quarantineParent;
        _quarantined = quarantineParent is null ? null : QuarantineDnOf(planned, quarantineParent);
    }

    /// <summary>Where the quarantine step moves the entry: its own RDN under the quarantine container.</summary>
    public DistinguishedName? QuarantinedDn => _quarantined;

    /// <summary>The planned DN lies inside the wave's base DN; false for a plan that lists an entity outside its wave.</summary>
    public bool PlannedDnInsideWave => _planned.IsWithin(_waveBase) && _planned.IsWithin(_sourceBase);

    public static DistinguishedName QuarantineDnOf(DistinguishedName planned, DistinguishedName quarantineParent) =>
        DistinguishedName.Parse(DistinguishedName.Render(planned.Rdns[0]) + "," + quarantineParent.Original);

    public Task<LegacyWriteResult> ModifyEntryAsync(string dn, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken)
    {
        EnsureOwnEntry(dn, "modify");
        return _writer.ModifyAsync(dn, changes, cancellationToken);
    }

    public Task<LegacyWriteResult> DeleteEntryAsync(string dn, CancellationToken cancellationToken)
    {
        EnsureOwnEntry(dn, "delete");
        return _writer.DeleteAsync(dn, cancellationToken);
    }

    public Task<LegacyWriteResult> MoveToQuarantineAsync(string dn, CancellationToken cancellationToken)
    {
        if (_quarantineParent is null || !Parse(dn).Equals(_planned) || !PlannedDnInsideWave)
        {
            throw new WriteOutsideScopeException($"move of {dn}: only the planned DN {_planned.Original} (inside the wave) may be moved, and only under Removal:QuarantineDn");
        }

        return _writer.MoveAsync(dn, _quarantineParent.Original, cancellationToken);
    }

    public Task<LegacyWriteResult> RemoveMembershipAsync(GroupListing group, string memberDn, CancellationToken cancellationToken)
    {
        var member = Parse(memberDn);
        if (!IsOwn(member))
        {
            throw new WriteOutsideScopeException($"membership change in {group.GroupDn}: {memberDn} is not this entity's DN");
        }

        if (!Parse(group.GroupDn).IsWithin(_sourceBase) || !MembershipAttributes.Contains(group.Attribute, StringComparer.OrdinalIgnoreCase))
        {
            throw new WriteOutsideScopeException($"membership change in {group.GroupDn} ({group.Attribute}): not a membership attribute of a group under the source's base DN {_sourceBase.Original}");
        }

        AttributeChange change = new(AttributeChangeKind.Delete, group.Attribute, [System.Text.Encoding.UTF8.GetBytes(memberDn)]);
        return _writer.ModifyAsync(group.GroupDn, [change], cancellationToken);
    }

    private void EnsureOwnEntry(string dn, string operation)
    {
        var parsed = Parse(dn);
        if (!PlannedDnInsideWave || !IsOwn(parsed))
        {
            throw new WriteOutsideScopeException($"{operation} of {dn}: only the entity's planned DN {_planned.Original} inside the wave's base DN {_waveBase.Original}, or its quarantine DN, may be written");
        }
    }

    private bool IsOwn(DistinguishedName dn) => dn.Equals(_planned) || (_quarantined is not null && dn.Equals(_quarantined));

    private static DistinguishedName Parse(string dn) =>
        DistinguishedName.TryParse(dn, out var parsed, out var error) ? parsed : throw new WriteOutsideScopeException($"\"{dn}\" is not a valid DN: {error}");
}

/// <summary>A step tried to write outside its entity and wave: a bug or an edited plan; the entity ends refused.</summary>
public sealed class WriteOutsideScopeException : Exception
{
    public WriteOutsideScopeException()
    {
    }

    public WriteOutsideScopeException(string message)
        : base(message)
    {
    }

    public WriteOutsideScopeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
