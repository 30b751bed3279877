namespace AuthSplit.Core.Planning.Format;

// The plan file, as records whose declaration order is the JSON property order. Lists, never
// dictionaries, so that serialisation is deterministic. Documented in docs/plan-format.md.

/// <summary>A reviewable, content-addressed migration plan.</summary>
public sealed record PlanDocument
{
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary><c>sha256:</c> of the canonical (compact) JSON of this document without this field.</summary>
    public string? PlanId { get; init; }

    public required PlanInputs Inputs { get; init; }

    /// <summary>The planning-relevant configuration, echoed so that an auditor can re-derive the plan.</summary>
    public required PlanSettings Settings { get; init; }

    public required PlanSummary Summary { get; init; }

    /// <summary>What each step action means, how far a dry run checked it, and its way back.</summary>
    public required IReadOnlyList<StepDescription> StepCatalog { get; init; }

    public required IReadOnlyList<PlannedEntity> Entities { get; init; }

    /// <summary>The configured systems, each cut over in its wave; null when none is configured (plans made before systems existed read the same).</summary>
    public IReadOnlyList<PlannedSystem>? Systems { get; init; }

    /// <summary>Cloud groups still synchronised from the legacy directory that the plan's people belong to; null when the target read found none.</summary>
    public IReadOnlyList<PlannedGroupSwitch>? GroupSwitches { get; init; }

    public required IReadOnlyList<DecisionRecord> Decisions { get; init; }
}

public sealed record PlanInputs
{
    public required InputDescription Source { get; init; }

    public required InputDescription Target { get; init; }

    /// <summary>Hash of <see cref="PlanDocument.Settings"/> in canonical JSON.</summary>
    public required string ConfigSha256 { get; init; }

    public InputDescription? Decisions { get; init; }

    /// <summary>The target's groups, applications and service principals as read (kind <c>graph-inventory</c>); null when the plan has no systems and no synchronised groups were read.</summary>
    public InputDescription? TargetInventory { get; init; }
}

/// <summary>Where an input came from and the hash of exactly what was read.</summary>
public sealed record InputDescription
{
    /// <summary><c>ldif</c>, <c>ldap</c>, <c>graph-snapshot</c>, <c>graph</c>, <c>decisions</c>.</summary>
    public required string Kind { get; init; }

    public required string Location { get; init; }

    public required string Sha256 { get; init; }

    public required int Count { get; init; }

    /// <summary>Active Directory sources only: the class map objectCategory names were resolved with.</summary>
    public SchemaDescription? Schema { get; init; }
}

/// <summary>The Active Directory class → defaultObjectCategory map a plan's filters were compiled against.</summary>
public sealed record SchemaDescription
{
    /// <summary><c>live</c> (the schema partition), <c>saved</c> (the snapshot's schema file) or <c>ad-default</c> (AD's default schema).</summary>
    public required string Origin { get; init; }

    /// <summary>The hash of the map's content.</summary>
    public required string Sha256 { get; init; }

    public required int Classes { get; init; }
}

public sealed record PlanSettings
{
    public required string Dialect { get; init; }

    public required string BaseDn { get; init; }

    public required IReadOnlyList<WaveSettings> Waves { get; init; }

    public required IReadOnlyList<MatchingRuleSettings> Matching { get; init; }

    public required SafetySettings Safety { get; init; }

    public required ClassificationSettings Classification { get; init; }

    public required RemovalSettings Removal { get; init; }

    /// <summary>The attributes each entity's precondition fingerprint covers (lower-case, sorted).</summary>
    public required IReadOnlyList<string> FingerprintAttributes { get; init; }

    /// <summary>The password-sync hook when the strategy is <c>Command</c> (absent for the Graph switch): the approved plan says what runs.</summary>
    public PasswordSyncHookSpec? PasswordSyncHook { get; init; }
}

public sealed record WaveSettings(string Name, int Order, string Deadline, string BaseDn, string Filter, IReadOnlyList<string> DependsOn, bool AllowEmptyScope);

public sealed record MatchingRuleSettings(int Rule, string Source, string Target, string Transform);

public sealed record SafetySettings(string? ProtectedFilter, IReadOnlyList<string> ProtectedDns, IReadOnlyList<string> BuiltInRails, int MaxDeletesPerWave, int MaxScopeDropPercent);

public sealed record ClassificationSettings(string ServiceAccountFilter, string GroupFilter, string PersonFilter);

public sealed record RemovalSettings(string? QuarantineDn, int HoldDays, int BackupRetentionDays);

public sealed record PlanSummary
{
    public required int EntriesRead { get; init; }

    public required int TargetUsersRead { get; init; }

    /// <summary>Entries under the base DN in no wave's scope: counted, not listed.</summary>
    public required int OutOfScope { get; init; }

    public required IReadOnlyList<WaveSummary> Waves { get; init; }
}

public sealed record WaveSummary
{
    public required string Name { get; init; }

    public required int Order { get; init; }

    public required string Deadline { get; init; }

    public required int InScope { get; init; }

    public required int Remove { get; init; }

    public required int Protected { get; init; }

    public required int Blocked { get; init; }

    public required int Kept { get; init; }

    /// <summary>Legacy entries this wave would delete.</summary>
    public required int PlannedDeletes { get; init; }

    public required int MaxDeletes { get; init; }

    /// <summary>True when <see cref="PlannedDeletes"/> exceeds <see cref="MaxDeletes"/>: execution will stop at the budget.</summary>
    public required bool DeleteBudgetExceeded { get; init; }

    /// <summary>The systems cut over in this wave; null when the plan has no systems (plans made before them read the same).</summary>
    public int? Systems { get; init; }

    /// <summary>Of <see cref="Systems"/>, those blocked: the wave's deletes wait for them until they are fixed or excepted.</summary>
    public int? SystemsBlocked { get; init; }

    /// <summary>Synchronised groups switched to cloud-managed in this wave (accepted losses not counted); null when the plan has no group switches.</summary>
    public int? GroupSwitches { get; init; }
}

public enum Disposition
{
    Remove,
    Protected,
    Blocked,
    /// <summary>Excluded from the migration by a recorded decision.</summary>
    Kept,
}

public sealed record PlannedEntity
{
    /// <summary>entryUUID (OpenLDAP) or objectGUID (AD), lower-case; <c>dn-sha256:...</c> when the entry had none.</summary>
    public required string Id { get; init; }

    public required string Dn { get; init; }

    public required Model.EntityKind Kind { get; init; }

    public required string Wave { get; init; }

    /// <summary>Every wave whose scope held the entry (more than one is a blocker).</summary>
    public IReadOnlyList<string>? CandidateWaves { get; init; }

    public required Disposition Disposition { get; init; }

    public required MatchResult Match { get; init; }

    public ProtectionRecord? Protection { get; init; }

    public required IReadOnlyList<Blocker> Blockers { get; init; }

    public AppliedDecision? Decision { get; init; }

    public required IReadOnlyList<PlannedStep> Steps { get; init; }

    public required Precondition Precondition { get; init; }

    /// <summary>
    /// People to be removed with a target account: how their password sync is stopped and what the target
    /// read showed. Null for other entities, and on every entity when it would only say the default (the
    /// Graph switch, status unknown, no synchronised groups), so plans made before it existed read the same.
    /// </summary>
    public PersonSyncPlan? PasswordSync { get; init; }

    /// <summary>
    /// The id of the system whose legacy account this entry is (<c>Systems[].LegacyAccounts</c>): such an
    /// entry is kept out of the entities' removals (disposition <c>kept</c>), since its system's steps
    /// disable it after the cutover; deleting it would cut the system off before it moved.
    /// </summary>
    public string? LegacyAccountOf { get; init; }

    /// <summary>
    /// A legacy group whose cloud counterpart (the cloud group whose <c>onPremisesSecurityIdentifier</c> is the
    /// group's <c>objectSid</c>) is still synchronised: that cloud group's id. Deleting the legacy group would
    /// delete the cloud group at the next sync, so the delete waits until the group's switch
    /// (<c>groupSwitches</c>) is verified, or a decision accepts the loss.
    /// </summary>
    public string? SynchronisedCloudGroup { get; init; }
}

public enum MatchStatus
{
    Matched,
    Ambiguous,
    None,
    /// <summary>A recorded decision named the target account.</summary>
    Decided,
    /// <summary>Groups and service accounts are not matched to target users.</summary>
    NotApplicable,
}

public sealed record MatchResult
{
    public required MatchStatus Status { get; init; }

    /// <summary>1-based index of the matching rule that decided, when one did.</summary>
    public int? Rule { get; init; }

    public string? Value { get; init; }

    public string? TargetId { get; init; }

    public string? TargetUserPrincipalName { get; init; }

    public bool? TargetAccountEnabled { get; init; }

    /// <summary>Each rule tried, in order, with what it found.</summary>
    public IReadOnlyList<RuleAttempt>? Considered { get; init; }
}

public sealed record RuleAttempt(int Rule, string Source, string Target, IReadOnlyList<string> Values, IReadOnlyList<string> Candidates, string Result);

public sealed record ProtectionRecord(string Reason, string Detail);

public sealed record Blocker(BlockerCode Code, string Message);

public sealed record AppliedDecision(string Decision, string Reason, string DecidedBy, IReadOnlyList<BlockerCode> Resolved);

public enum DryRunCheck
{
    /// <summary>The dry run verified the step's premise against the data it read.</summary>
    Checked,
    /// <summary>The dry run saw the object, but the write itself was not tried.</summary>
    Probed,
    /// <summary>Nothing the dry run read can tell; checked only at execution.</summary>
    Unchecked,
}

/// <summary>
/// One step of an entity. Its parameters are not repeated per entity: the target account is the
/// entity's <c>match.targetId</c>, the quarantine DN and hold days are in <c>settings.removal</c>.
/// </summary>
public sealed record PlannedStep(StepAction Action, DryRunCheck DryRun);

public sealed record StepDescription
{
    public required StepAction Action { get; init; }

    /// <summary><c>target</c>, <c>legacy</c> or <c>state</c>: which system the step touches.</summary>
    public required string System { get; init; }

    public required string Description { get; init; }

    public required bool Destructive { get; init; }

    public required DryRunCheck DryRun { get; init; }

    public required string DryRunExplanation { get; init; }

    /// <summary>How to undo it and until when; null for read-only steps.</summary>
    public Reversal? Reversal { get; init; }
}

public sealed record Reversal(string How, string Until);

/// <summary>What the executor checks before acting: if the entry moved or changed, the entity is stale.</summary>
public sealed record Precondition(string Dn, string Sha256);

public enum DecisionStatus
{
    Applied,
    /// <summary>The entity exists but the decision does not fit it (reason in the note).</summary>
    Rejected,
    /// <summary>No entity in scope has this id.</summary>
    Unused,
}

public sealed record DecisionRecord(string EntityId, string Decision, DecisionStatus Status, string Note);
