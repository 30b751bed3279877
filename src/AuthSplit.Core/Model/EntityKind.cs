namespace AuthSplit.Core.Model;

/// <summary>What a legacy entry is, which decides the steps it gets.</summary>
public enum EntityKind
{
    Person,
    Group,
    ServiceAccount,
    /// <summary>Anything else a wave filter selected (a computer, a contact...): never acted on without a decision.</summary>
    Other,

    /// <summary>Not a legacy entry: a system (relying party) cut over in a wave, journalled as <c>system:ID</c> beside the entities.</summary>
    System,

    /// <summary>Not a legacy entry: a synchronised cloud group switched to cloud-managed before a wave's deletes, journalled as <c>group-switch:ID</c>.</summary>
    GroupSwitch,
}
