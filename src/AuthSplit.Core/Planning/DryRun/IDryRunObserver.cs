using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.DryRun;

/// <summary>What a dry run tells its caller as it goes (for the operational log); every method may do nothing.</summary>
public interface IDryRunObserver
{
    /// <summary>The target was read completely.</summary>
    void TargetRead(ITargetDirectorySource target, InputDescription read)
    {
    }

    /// <summary>The target's groups, applications and service principals were read.</summary>
    void TargetInventoryRead(ITargetDirectorySource target, InputDescription read)
    {
    }

    /// <summary>
    /// The target cannot give its inventory (a snapshot saved before inventories existed) and no system is
    /// configured: the plan is made, but whether its people are in synchronised cloud groups was not checked.
    /// </summary>
    void TargetInventoryUnavailable(ITargetDirectorySource target, string reason)
    {
    }

    /// <summary>A filter matches in chain: the source's links are read first (a second pass plans).</summary>
    void LinkPassStarting(IReadOnlyCollection<string> attributes)
    {
    }

    /// <summary>The legacy source was read completely and planned.</summary>
    void SourceRead(ILegacyDirectorySource source, InputDescription read)
    {
    }
}
