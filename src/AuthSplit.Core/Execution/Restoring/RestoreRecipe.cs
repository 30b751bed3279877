using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Restoring;

/// <summary>
/// How to re-create a deleted legacy entry from its backup: the entry to add, then the memberships to
/// add back, in that order. <see cref="Notes"/> are what the operator must be told (and what the journal
/// records): a new identity, an account created disabled without a password.
/// </summary>
public sealed record RestoreRecipe
{
    /// <summary>The entry as an add sends it: the backup without <see cref="LeftOut"/>.</summary>
    public required DirectoryEntry Entry { get; init; }

    /// <summary>One modify-add per group that listed the entry, in the backup's order.</summary>
    public required IReadOnlyList<GroupReAdd> Groups { get; init; }

    /// <summary>The backup's attributes the add leaves out (the server manages them), sorted.</summary>
    public required IReadOnlyList<string> LeftOut { get; init; }

    /// <summary>The restored entry keeps its identity (OpenLDAP <c>entryUUID</c> under the Relax Rules control); never on Active Directory.</summary>
    public required bool KeepsIdentity { get; init; }

    /// <summary>The restored account is created disabled (Active Directory: its password cannot be read back).</summary>
    public required bool CreatedDisabled { get; init; }

    public required IReadOnlyList<string> Notes { get; init; }
}

/// <summary>Adds the restored entry's DN back to <see cref="Change"/>'s attribute of the group at <see cref="GroupDn"/>.</summary>
public sealed record GroupReAdd(string GroupDn, string? GroupId, AttributeChange Change);
