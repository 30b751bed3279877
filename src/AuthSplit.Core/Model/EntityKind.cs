namespace AuthSplit.Core.Model;

/// <summary>What a legacy entry is, which decides the steps it gets.</summary>
public enum EntityKind
{
    Person,
    Group,
    ServiceAccount,
    /// <summary>Anything else a wave filter selected (a computer, a contact...): never acted on without a decision.</summary>
    Other,
}
