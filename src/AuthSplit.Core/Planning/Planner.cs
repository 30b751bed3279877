using System.Runtime.InteropServices;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;
using AuthSplit.Core.Planning.Systems;

namespace AuthSplit.Core.Planning;

/// <summary>
/// The planner: a pure function of (settings, target users and inventory, legacy entries, decisions). Entries are
/// fed one at a time with <see cref="Add"/> so a large directory is never held in memory; only the
/// compact per-entity facts of entries in scope are kept. <see cref="Complete"/> resolves what needs
/// the whole picture (shared target accounts, decisions, budgets, refusals) and builds the plan, with
/// the systems (<see cref="SystemPlanner"/>) and synchronised groups (<see cref="GroupSwitchPlanner"/>).
/// </summary>
public sealed class Planner
{
    private readonly PlanningSettings _settings;
    private readonly TargetMatcher _matcher;
    private readonly Dictionary<string, Decision> _decisions;
    private readonly Dictionary<string, Decision> _systemExceptions;
    private readonly Dictionary<string, Decision> _acceptedLosses;
    private readonly TargetInventory? _inventory;
    private readonly LegacyAccountIndex _legacyAccounts;
    private readonly List<EntityDraft> _drafts = [];
    private readonly Dictionary<string, string> _groupSids = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly EntityPrecondition _precondition;
    private readonly ProtectionPolicy _protection;
    private readonly string[][] _singleWaves;
    private int _entriesRead;
    private int _outOfScope;

    /// <param name="inventory">
    /// The target's groups, applications and service principals; required when systems are configured.
    /// Without it, synchronised groups are not checked (the caller warns).
    /// </param>
    public Planner(PlanningSettings settings, IEnumerable<TargetUser> targetUsers, IReadOnlyList<Decision> decisions, TargetInventory? inventory = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (inventory is null && settings.Options.Systems.Count > 0)
        {
            throw new ArgumentException("systems are configured: the target inventory (their service principals) is required", nameof(inventory));
        }

        _settings = settings;
        _inventory = inventory;
        _matcher = new TargetMatcher(settings.Matching, targetUsers);
        _decisions = decisions.Where(d => d.Kind is not (DecisionKind.ExceptSystem or DecisionKind.AcceptGroupLoss)).ToDictionary(d => d.EntityId, StringComparer.Ordinal);
        _systemExceptions = decisions.Where(d => d.Kind == DecisionKind.ExceptSystem).ToDictionary(d => d.EntityId, StringComparer.OrdinalIgnoreCase);
        _acceptedLosses = decisions.Where(d => d.Kind == DecisionKind.AcceptGroupLoss).ToDictionary(d => d.EntityId, StringComparer.OrdinalIgnoreCase);
        _legacyAccounts = new LegacyAccountIndex(settings.Options.Systems);
        _singleWaves = [.. settings.Waves.Select(w => new[] { w.Name })];
        _precondition = new EntityPrecondition(settings.FingerprintAttributes);
        _protection = new ProtectionPolicy(settings.Dialect, settings.BindDn, settings.ProtectedDns, settings.ProtectedFilter);
    }

    /// <summary>Considers one legacy entry.</summary>
    public void Add(DirectoryEntry entry)
    {
        _entriesRead++;
        var dn = entry.ParsedDn;
        if (dn is null && !DistinguishedName.TryParse(entry.Dn, out dn, out var error))
        {
            throw new InputException("source-dn", $"entry DN \"{PrintableText.Escape(entry.Dn)}\" is not a valid DN: {PrintableText.Escape(error)}");
        }

        var waves = WavesContaining(dn, entry);
        var systems = _legacyAccounts.IsEmpty ? [] : _legacyAccounts.Record(entry, dn, _settings, _precondition, _protection);

        if (waves.Count == 0)
        {
            _outOfScope++;
            return;
        }

        var id = EntityIdentity.Of(entry, dn, _settings.Dialect, out var hasIdentity);
        if (!_ids.Add(id))
        {
            throw new InputException("source-duplicate-id", $"two entries carry the identity {PrintableText.Escape(id)} (the second is \"{PrintableText.Escape(entry.Dn)}\"); the source read is inconsistent");
        }

        var kind = _settings.Classifier.Classify(entry);
        var protection = Protection(entry, dn);
        var match = kind == EntityKind.Person
            ? _matcher.Match(entry)
            : new MatchResult { Status = MatchStatus.NotApplicable };
        var blockers = new List<Blocker>();
        if (!hasIdentity)
        {
            blockers.Add(new Blocker(BlockerCode.MissingIdentity, $"the entry has no {_settings.IdentityAttribute}, so the executor could not tell it from a look-alike; export with operational attributes (ldapsearch '*' '+')"));
        }

        if (waves.Count > 1)
        {
            blockers.Add(new Blocker(BlockerCode.MultipleWaves, $"in the scope of waves {string.Join(", ", waves)}; record an assign-wave decision"));
        }

        if (kind == EntityKind.Other)
        {
            var classes = string.Join(", ", entry.GetStrings("objectClass"));
            blockers.Add(new Blocker(BlockerCode.UnsupportedKind, $"not a person, group or service account (objectClass: {classes}); record a keep or remove decision"));
        }

        switch (match.Status)
        {
            case MatchStatus.Ambiguous:
                var attempt = match.Considered![^1];
                blockers.Add(new Blocker(BlockerCode.AmbiguousTargetMatch, $"rule {attempt.Rule} ({attempt.Source} -> {attempt.Target}) found {attempt.Candidates.Count} target users: {string.Join(", ", attempt.Candidates)}; record a use-target decision"));
                break;
            case MatchStatus.None:
                var tried = string.Join(", ", match.Considered!.Select(c => $"{c.Source} -> {c.Target}: {c.Result}"));
                blockers.Add(new Blocker(BlockerCode.NoTargetAccount, $"no matching rule found a target user ({tried}); record use-target, or remove if the person has left"));
                break;
        }

        var systemAccount = LegacyAccountIndex.InScope(kind, systems, blockers);

        // Only compact facts are kept per entity (two DN strings, not the parsed DN), since a large
        // directory's drafts are all alive until the plan is complete.
        _drafts.Add(new EntityDraft(id, dn.Original, kind, waves, protection, match, blockers, _precondition.Of(entry, dn)) { SystemAccount = systemAccount });
        if (kind == EntityKind.Group && _inventory is not null && entry.GetValues("objectSid") is [var sid, ..] && SecurityIdentifiers.Format(sid) is { } sidText)
        {
            // A group synchronised to the target is linked by its SID (Graph's onPremisesSecurityIdentifier).
            _groupSids[id] = sidText;
        }
    }

    /// <summary>
    /// Finishes the plan, or says why no plan may be made from this read. With
    /// <paramref name="computePlanId"/> false the plan has no id yet: the caller writes it with
    /// <see cref="PlanSerializer.WriteWithPlanIdAsync"/>, which hashes while it writes.
    /// </summary>
    public PlanningOutcome Complete(PlanInputs inputs, PlanDocument? previousPlan, bool acceptScopeDrop, bool computePlanId = true)
    {
        MarkSharedTargets();
        var resolutions = new Resolution?[_drafts.Count];
        for (var i = 0; i < _drafts.Count; i++)
        {
            resolutions[i] = Resolve(_drafts[i]);
        }

        MarkTargetsNamedTwice(resolutions);
        var decisionRecords = resolutions.Where(r => r?.Record is not null).Select(r => r!.Record!).ToList();
        var entities = _drafts
            .Select((d, i) => Finish(d, resolutions[i]))
            .OrderBy(e => WaveOrder(e.Wave))
            .ThenBy(e => e.Kind)
            .ThenBy(e => e.Precondition.Dn, StringComparer.Ordinal)
            .ThenBy(e => e.Id, StringComparer.Ordinal)
            .ToArray();
        foreach (var unused in _decisions.Values.Where(d => !_ids.Contains(d.EntityId)))
        {
            decisionRecords.Add(new DecisionRecord(unused.EntityId, unused.Name, DecisionStatus.Unused, "no entity in any wave's scope has this id"));
        }

        var systems = _settings.Options.Systems.Count == 0 ? null : SystemPlanner.Plan(_settings, _legacyAccounts, entities, _inventory!, _systemExceptions);
        var groups = GroupSwitchPlanner.Plan(entities, _settings.Waves, _inventory, _acceptedLosses, _settings.Options.PasswordSync.Strategy, _matcher.FindById, _groupSids);
        if (groups.SyncPlans.Count > 0 || groups.LegacyGroupLinks.Count > 0)
        {
            for (var i = 0; i < entities.Length; i++)
            {
                if (groups.SyncPlans.TryGetValue(entities[i].Id, out var sync))
                {
                    entities[i] = entities[i] with { PasswordSync = sync };
                }

                if (groups.LegacyGroupLinks.TryGetValue(entities[i].Id, out var cloudGroup))
                {
                    entities[i] = entities[i] with { SynchronisedCloudGroup = cloudGroup };
                }
            }
        }

        decisionRecords.AddRange(SystemPlanner.Record(_systemExceptions.Values, _acceptedLosses.Values, systems, groups.Switches));
        var summary = Summarise(entities, systems, groups.Switches);
        var refusals = Refusals(summary, entities, previousPlan, acceptScopeDrop);
        var document = new PlanDocument
        {
            Inputs = inputs,
            Settings = _settings.Echo,
            Summary = summary,
            StepCatalog = StepCatalog.Describe(_settings.Echo.Removal, groups: groups.Switches is not null, systems: systems is not null, passwordSyncHook: _settings.Echo.PasswordSyncHook),
            Entities = entities,
            Systems = systems,
            GroupSwitches = groups.Switches,
            Decisions = [.. decisionRecords.OrderBy(r => r.EntityId, StringComparer.Ordinal)],
        };
        return new PlanningOutcome(computePlanId ? PlanSerializer.WithPlanId(document) : document, refusals);
    }

    private void MarkSharedTargets()
    {
        var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var draft in _drafts)
        {
            if (draft.Match.Status == MatchStatus.Matched)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(counts, draft.Match.TargetId!, out _)++;
            }
        }

        var shared = _drafts
            .Where(d => d.Match.Status == MatchStatus.Matched && counts[d.Match.TargetId!] > 1)
            .GroupBy(d => d.Match.TargetId!, StringComparer.OrdinalIgnoreCase);
        foreach (var group in shared)
        {
            foreach (var draft in group)
            {
                var others = string.Join("; ", group.Where(o => o != draft).Select(o => o.Dn));
                draft.Blockers.Add(new Blocker(BlockerCode.TargetShared, $"target user {group.Key} is also matched by {others}; record a use-target or keep decision"));
            }
        }
    }

    // A use-target decision must not hand an entity a target user that another entity would also
    // switch (matched by a rule, or named by another decision): both would be removed with the same
    // target. Every such claimant is blocked as target-shared and the naming decisions are rejected,
    // until the others are kept or given another target. Conflicts between rule matches alone were
    // marked by MarkSharedTargets already.
    private void MarkTargetsNamedTwice(Resolution?[] resolutions)
    {
        if (!resolutions.Any(r => r?.Match.Status == MatchStatus.Decided))
        {
            return;
        }

        var claims = new Dictionary<string, List<int>>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < _drafts.Count; i++)
        {
            if (ClaimedTarget(_drafts[i], resolutions[i]) is { } target)
            {
                if (!claims.TryGetValue(target, out var claimants))
                {
                    claims[target] = claimants = [];
                }

                claimants.Add(i);
            }
        }

        foreach (var (target, claimants) in claims)
        {
            if (claimants.Count < 2 || !claimants.Any(i => resolutions[i]?.Match.Status == MatchStatus.Decided))
            {
                continue;
            }

            foreach (var i in claimants)
            {
                var draft = _drafts[i];
                var others = string.Join("; ", claimants.Where(o => o != i).Select(o => $"{_drafts[o].Dn} ({(resolutions[o]?.Match.Status == MatchStatus.Decided ? "named by a use-target decision" : "matched by a rule")})"));
                var resolution = resolutions[i];
                if (resolution?.Match.Status == MatchStatus.Decided)
                {
                    resolutions[i] = resolution = new Resolution(draft)
                    {
                        Record = resolution.Record! with
                        {
                            Status = DecisionStatus.Rejected,
                            Note = $"target user {target} is also the target of {others}; keep that entity or give it another target, or both stay blocked as target-shared",
                        },
                    };
                }

                var blockers = resolution?.Blockers ?? draft.Blockers;
                if (!blockers.Exists(b => b.Code == BlockerCode.TargetShared))
                {
                    blockers.Add(new Blocker(BlockerCode.TargetShared, $"target user {target} is also the target of {others}; record a keep decision for one, or use-target another user"));
                }
            }
        }
    }

    // The target user an entity would switch if it were removed: none for protected and kept
    // entities, and none for a remove decision (which leaves the target alone).
    private static string? ClaimedTarget(EntityDraft draft, Resolution? resolution)
    {
        var match = resolution?.Match ?? draft.Match;
        return draft.Protection is null && resolution is not { Kept: true } && resolution is not { RemoveWithoutTarget: true } && match.Status is MatchStatus.Matched or MatchStatus.Decided
            ? match.TargetId
            : null;
    }

    // What the entity's decision (if any) does to it; null when there is no decision.
    private Resolution? Resolve(EntityDraft draft)
    {
        if (!_decisions.TryGetValue(draft.Id, out var decision))
        {
            return null;
        }

        if (draft.Protection is not null)
        {
            return new Resolution(draft) { Record = new DecisionRecord(draft.Id, decision.Name, DecisionStatus.Rejected, "the entity is protected; no decision overrides protection") };
        }

        if (draft.SystemAccount is not null)
        {
            return new Resolution(draft) { Record = new DecisionRecord(draft.Id, decision.Name, DecisionStatus.Rejected, $"the entry is a legacy account of system {draft.SystemAccount}: its system disables it after the cutover, so no entity decision applies (except-system leaves it as it is)") };
        }

        var outcome = ApplyDecision(draft, decision);
        var resolution = new Resolution(draft) { Record = new DecisionRecord(draft.Id, decision.Name, outcome.Status, outcome.Note) };
        if (outcome.Status == DecisionStatus.Applied)
        {
            resolution.Applied = new AppliedDecision(decision.Name, decision.Reason, decision.DecidedBy, outcome.Resolved);
            resolution.Blockers = [.. draft.Blockers.Where(b => !outcome.Resolved.Contains(b.Code))];
            resolution.Wave = outcome.Wave ?? resolution.Wave;
            resolution.Match = outcome.Match ?? resolution.Match;
            resolution.Kept = decision.Kind == DecisionKind.Keep;
            resolution.RemoveWithoutTarget = decision.Kind == DecisionKind.Remove;
        }

        return resolution;
    }

    private PlannedEntity Finish(EntityDraft draft, Resolution? resolution)
    {
        var wave = resolution?.Wave ?? draft.Waves[0];
        var match = resolution?.Match ?? draft.Match;
        var blockers = resolution?.Blockers ?? draft.Blockers;
        var systemAccount = draft.Protection is null ? draft.SystemAccount : null;
        if (systemAccount is not null)
        {
            // Kept out of the removals, whatever else would have blocked it: the system plans it.
            blockers = [];
        }

        var kept = resolution?.Kept == true || systemAccount is not null;
        var disposition = draft.Protection is not null ? Disposition.Protected
            : kept ? Disposition.Kept
            : blockers.Count > 0 ? Disposition.Blocked
            : Disposition.Remove;
        // A remove decision takes the person out without touching the target (there is no account to switch).
        var hasTarget = resolution?.RemoveWithoutTarget != true && match.TargetId is not null;
        var steps = disposition == Disposition.Remove
            ? StepCatalog.For(draft.Kind, hasTarget, _settings.Echo.Removal, passwordSyncByHook: _settings.Echo.PasswordSyncHook is not null)
            : [];
        return new PlannedEntity
        {
            Id = draft.Id,
            Dn = draft.Dn,
            Kind = draft.Kind,
            Wave = wave,
            CandidateWaves = draft.Waves.Count > 1 ? draft.Waves : null,
            Disposition = disposition,
            Match = match,
            Protection = draft.Protection,
            Blockers = blockers,
            Decision = resolution?.Applied,
            Steps = steps,
            Precondition = draft.Precondition,
            LegacyAccountOf = systemAccount,
        };
    }

    private DecisionOutcome ApplyDecision(EntityDraft draft, Decision decision)
    {
        var codes = draft.Blockers.Select(b => b.Code).ToHashSet();
        switch (decision.Kind)
        {
            case DecisionKind.Keep:
                return DecisionOutcome.Applied("kept in the legacy directory", [.. codes.OrderBy(WireName.Of, StringComparer.Ordinal)]);

            case DecisionKind.AssignWave:
                if (!codes.Contains(BlockerCode.MultipleWaves))
                {
                    return DecisionOutcome.Rejected("the entity is in one wave only; nothing to assign");
                }

                var wave = draft.Waves.FirstOrDefault(w => string.Equals(w, decision.Wave, StringComparison.OrdinalIgnoreCase));
                return wave is null
                    ? DecisionOutcome.Rejected($"wave \"{decision.Wave}\" is not one of the entity's waves ({string.Join(", ", draft.Waves)})")
                    : DecisionOutcome.Applied($"assigned to wave {wave}", [BlockerCode.MultipleWaves], wave: wave);

            case DecisionKind.UseTarget:
                if (draft.Kind != EntityKind.Person)
                {
                    return DecisionOutcome.Rejected("only people are matched to target users");
                }

                var user = _matcher.FindById(decision.TargetId!);
                if (user is null)
                {
                    return DecisionOutcome.Rejected($"target user {decision.TargetId} is not in the target read");
                }

                BlockerCode[] resolvable = [BlockerCode.AmbiguousTargetMatch, BlockerCode.NoTargetAccount, BlockerCode.TargetShared];
                var resolved = resolvable.Where(codes.Contains).ToArray();
                if (resolved.Length == 0)
                {
                    return DecisionOutcome.Rejected("the entity has no matching blocker to resolve");
                }

                var match = TargetMatcher.Matched(MatchStatus.Decided, null, null, user, draft.Match.Considered);
                return DecisionOutcome.Applied($"target user {user.Id} named by decision", resolved, match: match);

            case DecisionKind.Remove:
                BlockerCode[] removable = [BlockerCode.NoTargetAccount, BlockerCode.UnsupportedKind];
                var removed = removable.Where(codes.Contains).ToArray();
                return removed.Length == 0
                    ? DecisionOutcome.Rejected("remove resolves only no-target-account or unsupported-kind")
                    : DecisionOutcome.Applied("removed without a target account", removed);

            default:
                throw new ArgumentOutOfRangeException(nameof(decision), decision.Kind, null);
        }
    }

    private PlanSummary Summarise(IReadOnlyList<PlannedEntity> entities, IReadOnlyList<PlannedSystem>? systems, IReadOnlyList<PlannedGroupSwitch>? switches)
    {
        var max = _settings.Options.Safety.MaxDeletesPerWave;
        var waves = _settings.Waves.Select(w =>
        {
            var inWave = entities.Where(e => e.Wave == w.Name).ToArray();
            var deletes = inWave.Count(e => e.Steps.Any(s => s.Action == StepAction.DeleteLegacyEntry));
            return new WaveSummary
            {
                Name = w.Name,
                Order = w.Order,
                Deadline = w.Deadline,
                InScope = inWave.Length,
                Remove = inWave.Count(e => e.Disposition == Disposition.Remove),
                Protected = inWave.Count(e => e.Disposition == Disposition.Protected),
                Blocked = inWave.Count(e => e.Disposition == Disposition.Blocked),
                Kept = inWave.Count(e => e.Disposition == Disposition.Kept),
                PlannedDeletes = deletes,
                MaxDeletes = max,
                DeleteBudgetExceeded = deletes > max,
                Systems = systems?.Count(s => s.Wave == w.Name),
                SystemsBlocked = systems?.Count(s => s.Wave == w.Name && s.Disposition == Disposition.Blocked),
                GroupSwitches = switches?.Count(g => g.Wave == w.Name && g.Disposition == Disposition.Remove),
            };
        });
        return new PlanSummary { EntriesRead = _entriesRead, TargetUsersRead = _matcher.Count, OutOfScope = _outOfScope, Waves = [.. waves] };
    }

    private List<PlanningRefusal> Refusals(PlanSummary summary, IReadOnlyList<PlannedEntity> entities, PlanDocument? previousPlan, bool acceptScopeDrop)
    {
        var refusals = new List<PlanningRefusal>();
        if (_entriesRead == 0)
        {
            refusals.Add(new PlanningRefusal(RefusalCode.EmptySource, $"the legacy read returned no entries under {_settings.BaseDn.Original}; check Source:BaseDn and the bind account's read rights"));
        }

        foreach (var wave in summary.Waves)
        {
            var config = _settings.Waves.First(w => w.Name == wave.Name);
            if (wave.InScope == 0 && !config.AllowEmptyScope && _entriesRead > 0)
            {
                refusals.Add(EmptyWave(wave.Name, config, entities));
            }

            var previous = previousPlan?.Summary.Waves.FirstOrDefault(p => p.Name == wave.Name);
            if (previous is { InScope: > 0 } && !acceptScopeDrop)
            {
                var dropPercent = (previous.InScope - wave.InScope) * 100.0 / previous.InScope;
                if (dropPercent > _settings.Options.Safety.MaxScopeDropPercent)
                {
                    refusals.Add(new PlanningRefusal(RefusalCode.ScopeDrop, FormattableString.Invariant($"wave {wave.Name} shrank from {previous.InScope} to {wave.InScope} entities ({dropPercent:0.#} % > Safety:MaxScopeDropPercent {_settings.Options.Safety.MaxScopeDropPercent} %) since plan {previousPlan!.PlanId}; a short read looks exactly like this. Check the read, then re-run with --accept-scope-drop if the drop is real")));
                }
            }
        }

        return refusals;
    }

    // A wave with no entity of its own is either really empty or lies entirely inside other waves'
    // scopes (its entities are all listed under another wave as multiple-waves): say which.
    private PlanningRefusal EmptyWave(string name, CompiledWave config, IReadOnlyList<PlannedEntity> entities)
    {
        var shared = entities.Where(e => e.CandidateWaves?.Contains(name) == true).ToArray();
        if (shared.Length == 0)
        {
            return new PlanningRefusal(RefusalCode.EmptyWaveScope, $"wave {name} has nothing in scope (BaseDn {config.BaseDn.Original}, Filter {config.FilterText}); a wrong filter looks exactly like this. Fix the wave, or set AllowEmptyScope once the wave is finished");
        }

        var others = _settings.Waves.Select(w => w.Name).Where(w => w != name && shared.Any(e => e.CandidateWaves!.Contains(w))).ToArray();
        return new PlanningRefusal(RefusalCode.WavesOverlap, $"wave {name} (BaseDn {config.BaseDn.Original}, Filter {config.FilterText}) has no entity of its own: all {shared.Length} entities in its scope are also in the scope of wave {string.Join(", ", others)}, listed there and blocked as multiple-waves unless an assign-wave decision placed them. The waves overlap entirely: give them disjoint scopes, or record assign-wave decisions");
    }

    // The names of the waves whose scope holds the entry; the one-wave lists are shared.
    private IReadOnlyList<string> WavesContaining(DistinguishedName dn, DirectoryEntry entry)
    {
        List<string>? several = null;
        string[]? single = null;
        for (var i = 0; i < _settings.Waves.Count; i++)
        {
            if (!_settings.Waves[i].Contains(dn, entry))
            {
                continue;
            }

            if (single is null)
            {
                single = _singleWaves[i];
            }
            else
            {
                several ??= [single[0]];
                several.Add(_settings.Waves[i].Name);
            }
        }

        return several ?? (IReadOnlyList<string>?)single ?? [];
    }

    private int WaveOrder(string wave) => _settings.Waves.First(w => w.Name == wave).Order;

    private ProtectionRecord? Protection(DirectoryEntry entry, DistinguishedName dn) => _protection.Check(entry, dn);

    private sealed record EntityDraft(
        string Id,
        string Dn,
        EntityKind Kind,
        IReadOnlyList<string> Waves,
        ProtectionRecord? Protection,
        MatchResult Match,
        List<Blocker> Blockers,
        Precondition Precondition)
    {
        /// <summary>The system whose legacy account this (non-person) entry is: kept out of the removals.</summary>
        public string? SystemAccount { get; init; }
    }

    /// <summary>An entity's state after its decision; starts as the draft's own.</summary>
    private sealed class Resolution(EntityDraft draft)
    {
        public string Wave { get; set; } = draft.Waves[0];

        public MatchResult Match { get; set; } = draft.Match;

        public List<Blocker> Blockers { get; set; } = draft.Blockers;

        public AppliedDecision? Applied { get; set; }

        public required DecisionRecord Record { get; init; }

        public bool Kept { get; set; }

        public bool RemoveWithoutTarget { get; set; }
    }

    private sealed record DecisionOutcome(DecisionStatus Status, string Note, IReadOnlyList<BlockerCode> Resolved, string? Wave, MatchResult? Match)
    {
        public static DecisionOutcome Applied(string note, IReadOnlyList<BlockerCode> resolved, string? wave = null, MatchResult? match = null) =>
            new(DecisionStatus.Applied, note, resolved, wave, match);

        public static DecisionOutcome Rejected(string note) => new(DecisionStatus.Rejected, note, [], null, null);
    }
}
