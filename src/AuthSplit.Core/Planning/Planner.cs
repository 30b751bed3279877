using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>
/// The planner: a pure function of (settings, target users, legacy entries, decisions). Entries are
/// fed one at a time with <see cref="Add"/> so a large directory is never held in memory; only the
/// compact per-entity facts of entries in scope are kept. <see cref="Complete"/> resolves what needs
/// the whole picture (shared target accounts, decisions, budgets, refusals) and builds the plan.
/// </summary>
public sealed class Planner
{
    private readonly PlanningSettings _settings;
    private readonly TargetMatcher _matcher;
    private readonly Dictionary<string, Decision> _decisions;
    private readonly List<EntityDraft> _drafts = [];
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _canonical = new(1024);
    private readonly string[][] _singleWaves;
    private int _entriesRead;
    private int _outOfScope;

    public Planner(PlanningSettings settings, IEnumerable<TargetUser> targetUsers, IReadOnlyList<Decision> decisions)
    {
        _settings = settings;
        _matcher = new TargetMatcher(settings.Matching, targetUsers);
        _decisions = decisions.ToDictionary(d => d.EntityId, StringComparer.Ordinal);
        _singleWaves = [.. settings.Waves.Select(w => new[] { w.Name })];
    }

    /// <summary>Considers one legacy entry.</summary>
    public void Add(DirectoryEntry entry)
    {
        _entriesRead++;
        var dn = entry.ParsedDn;
        if (dn is null && !DistinguishedName.TryParse(entry.Dn, out dn, out var error))
        {
            throw new InputException("source-dn", $"entry DN \"{entry.Dn}\" is not a valid DN: {error}");
        }

        var waves = WavesContaining(dn, entry);
        if (waves.Count == 0)
        {
            _outOfScope++;
            return;
        }

        var id = Identity(entry, dn, out var hasIdentity);
        if (!_ids.Add(id))
        {
            throw new InputException("source-duplicate-id", $"two entries carry the identity {id} (the second is \"{entry.Dn}\"); the source read is inconsistent");
        }

        var kind = _settings.Classifier.Classify(entry);
        var protection = Protection(entry, dn);
        var match = kind == EntityKind.Person
            ? _matcher.Match(entry)
            : new MatchResult { Status = MatchStatus.NotApplicable };
        var blockers = new List<Blocker>();
        if (!hasIdentity)
        {
            blockers.Add(new Blocker("missing-identity", $"the entry has no {_settings.IdentityAttribute}, so the executor could not tell it from a look-alike; export with operational attributes (ldapsearch '*' '+')"));
        }

        if (waves.Count > 1)
        {
            blockers.Add(new Blocker("multiple-waves", $"in the scope of waves {string.Join(", ", waves)}; record an assign-wave decision"));
        }

        if (kind == EntityKind.Other)
        {
            var classes = string.Join(", ", entry.GetStrings("objectClass"));
            blockers.Add(new Blocker("unsupported-kind", $"not a person, group or service account (objectClass: {classes}); record a keep or remove decision"));
        }

        switch (match.Status)
        {
            case MatchStatus.Ambiguous:
                var attempt = match.Considered![^1];
                blockers.Add(new Blocker("ambiguous-target-match", $"rule {attempt.Rule} ({attempt.Source} -> {attempt.Target}) found {attempt.Candidates.Count} target users: {string.Join(", ", attempt.Candidates)}; record a use-target decision"));
                break;
            case MatchStatus.None:
                var tried = string.Join(", ", match.Considered!.Select(c => $"{c.Source} -> {c.Target}: {c.Result}"));
                blockers.Add(new Blocker("no-target-account", $"no matching rule found a target user ({tried}); record use-target, or remove if the person has left"));
                break;
        }

        // Only compact facts are kept per entity (two DN strings, not the parsed DN), since a large
        // directory's drafts are all alive until the plan is complete.
        _drafts.Add(new EntityDraft(id, dn.Original, dn.Normalized, kind, waves, protection, match, blockers, Fingerprint(entry, dn)));
    }

    /// <summary>
    /// Finishes the plan, or says why no plan may be made from this read. With
    /// <paramref name="computePlanId"/> false the plan has no id yet: the caller writes it with
    /// <see cref="PlanSerializer.WriteWithPlanIdAsync"/>, which hashes while it writes.
    /// </summary>
    public PlanningOutcome Complete(PlanInputs inputs, PlanDocument? previousPlan, bool acceptScopeDrop, bool computePlanId = true)
    {
        MarkSharedTargets();
        var decisionRecords = new List<DecisionRecord>();
        var entities = _drafts
            .Select(d => Finish(d, decisionRecords))
            .OrderBy(e => WaveOrder(e.Wave))
            .ThenBy(e => e.Kind)
            .ThenBy(e => e.Precondition.Dn, StringComparer.Ordinal)
            .ThenBy(e => e.Id, StringComparer.Ordinal)
            .ToArray();
        foreach (var unused in _decisions.Values.Where(d => !_ids.Contains(d.EntityId)))
        {
            decisionRecords.Add(new DecisionRecord(unused.EntityId, unused.Name, DecisionStatus.Unused, "no entity in any wave's scope has this id"));
        }

        var summary = Summarise(entities);
        var refusals = Refusals(summary, previousPlan, acceptScopeDrop);
        var document = new PlanDocument
        {
            Inputs = inputs,
            Settings = _settings.Echo,
            Summary = summary,
            StepCatalog = StepCatalog.Describe(_settings.Echo.Removal),
            Entities = entities,
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
                draft.Blockers.Add(new Blocker("target-shared", $"target user {group.Key} is also matched by {others}; record a use-target or keep decision"));
            }
        }
    }

    private PlannedEntity Finish(EntityDraft draft, List<DecisionRecord> records)
    {
        var wave = draft.Waves[0];
        var match = draft.Match;
        var blockers = draft.Blockers;
        AppliedDecision? applied = null;
        var kept = false;
        var removeWithoutTarget = false;

        if (_decisions.TryGetValue(draft.Id, out var decision))
        {
            if (draft.Protection is not null)
            {
                records.Add(new DecisionRecord(draft.Id, decision.Name, DecisionStatus.Rejected, "the entity is protected; no decision overrides protection"));
            }
            else
            {
                var outcome = ApplyDecision(draft, decision);
                records.Add(new DecisionRecord(draft.Id, decision.Name, outcome.Status, outcome.Note));
                if (outcome.Status == DecisionStatus.Applied)
                {
                    applied = new AppliedDecision(decision.Name, decision.Reason, decision.DecidedBy, outcome.Resolved);
                    blockers = [.. blockers.Where(b => !outcome.Resolved.Contains(b.Code))];
                    wave = outcome.Wave ?? wave;
                    match = outcome.Match ?? match;
                    kept = decision.Kind == DecisionKind.Keep;
                    removeWithoutTarget = decision.Kind == DecisionKind.Remove;
                }
            }
        }

        var disposition = draft.Protection is not null ? Disposition.Protected
            : kept ? Disposition.Kept
            : blockers.Count > 0 ? Disposition.Blocked
            : Disposition.Remove;
        // A remove decision takes the person out without touching the target (there is no account to switch).
        var hasTarget = !removeWithoutTarget && match.TargetId is not null;
        var steps = disposition == Disposition.Remove
            ? StepCatalog.For(draft.Kind, hasTarget, _settings.Echo.Removal)
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
            Decision = applied,
            Steps = steps,
            Precondition = new Precondition(draft.NormalizedDn, draft.Fingerprint),
        };
    }

    private DecisionOutcome ApplyDecision(EntityDraft draft, Decision decision)
    {
        var codes = draft.Blockers.Select(b => b.Code).ToHashSet(StringComparer.Ordinal);
        switch (decision.Kind)
        {
            case DecisionKind.Keep:
                return DecisionOutcome.Applied("kept in the legacy directory", [.. codes.Order(StringComparer.Ordinal)]);

            case DecisionKind.AssignWave:
                if (!codes.Contains("multiple-waves"))
                {
                    return DecisionOutcome.Rejected("the entity is in one wave only; nothing to assign");
                }

                var wave = draft.Waves.FirstOrDefault(w => string.Equals(w, decision.Wave, StringComparison.OrdinalIgnoreCase));
                return wave is null
                    ? DecisionOutcome.Rejected($"wave \"{decision.Wave}\" is not one of the entity's waves ({string.Join(", ", draft.Waves)})")
                    : DecisionOutcome.Applied($"assigned to wave {wave}", ["multiple-waves"], wave: wave);

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

                string[] resolvable = ["ambiguous-target-match", "no-target-account", "target-shared"];
                var resolved = resolvable.Where(codes.Contains).ToArray();
                if (resolved.Length == 0)
                {
                    return DecisionOutcome.Rejected("the entity has no matching blocker to resolve");
                }

                var match = TargetMatcher.Matched(MatchStatus.Decided, null, null, user, draft.Match.Considered);
                return DecisionOutcome.Applied($"target user {user.Id} named by decision", resolved, match: match);

            case DecisionKind.Remove:
                string[] removable = ["no-target-account", "unsupported-kind"];
                var removed = removable.Where(codes.Contains).ToArray();
                return removed.Length == 0
                    ? DecisionOutcome.Rejected("remove resolves only no-target-account or unsupported-kind")
                    : DecisionOutcome.Applied("removed without a target account", removed);

            default:
                throw new ArgumentOutOfRangeException(nameof(decision), decision.Kind, null);
        }
    }

    private PlanSummary Summarise(IReadOnlyList<PlannedEntity> entities)
    {
        var max = _settings.Options.Safety.MaxDeletesPerWave;
        var waves = _settings.Waves.Select(w =>
        {
            var inWave = entities.Where(e => e.Wave == w.Name).ToArray();
            var deletes = inWave.Count(e => e.Steps.Any(s => s.Action == StepCatalog.DeleteLegacyEntry));
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
            };
        });
        return new PlanSummary { EntriesRead = _entriesRead, TargetUsersRead = _matcher.Count, OutOfScope = _outOfScope, Waves = [.. waves] };
    }

    private List<PlanningRefusal> Refusals(PlanSummary summary, PlanDocument? previousPlan, bool acceptScopeDrop)
    {
        var refusals = new List<PlanningRefusal>();
        if (_entriesRead == 0)
        {
            refusals.Add(new PlanningRefusal("empty-source", $"the legacy read returned no entries under {_settings.BaseDn.Original}; check Source:BaseDn and the bind account's read rights"));
        }

        foreach (var wave in summary.Waves)
        {
            var config = _settings.Waves.First(w => w.Name == wave.Name);
            if (wave.InScope == 0 && !config.AllowEmptyScope && _entriesRead > 0)
            {
                refusals.Add(new PlanningRefusal("empty-wave-scope", $"wave {wave.Name} has nothing in scope (BaseDn {config.BaseDn.Original}, Filter {config.FilterText}); a wrong filter looks exactly like this. Fix the wave, or set AllowEmptyScope once the wave is finished"));
            }

            var previous = previousPlan?.Summary.Waves.FirstOrDefault(p => p.Name == wave.Name);
            if (previous is { InScope: > 0 } && !acceptScopeDrop)
            {
                var dropPercent = (previous.InScope - wave.InScope) * 100.0 / previous.InScope;
                if (dropPercent > _settings.Options.Safety.MaxScopeDropPercent)
                {
                    refusals.Add(new PlanningRefusal("scope-drop", FormattableString.Invariant($"wave {wave.Name} shrank from {previous.InScope} to {wave.InScope} entities ({dropPercent:0.#} % > Safety:MaxScopeDropPercent {_settings.Options.Safety.MaxScopeDropPercent} %) since plan {previousPlan!.PlanId}; a short read looks exactly like this. Check the read, then re-run with --accept-scope-drop if the drop is real")));
                }
            }
        }

        return refusals;
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

    private ProtectionRecord? Protection(DirectoryEntry entry, DistinguishedName dn)
    {
        if (BuiltInProtection.Check(_settings.Dialect, entry, dn, _settings.BindDn) is { } builtIn)
        {
            return builtIn;
        }

        var protectedDn = _settings.ProtectedDns.FirstOrDefault(dn.IsWithin);
        if (protectedDn is not null)
        {
            return new ProtectionRecord("protected-dn", $"at or below Safety:ProtectedDns entry {protectedDn.Original}");
        }

        return _settings.ProtectedFilter?.Matches(entry) == true
            ? new ProtectionRecord("protected-filter", "matches Safety:ProtectedFilter")
            : null;
    }

    private string Identity(DirectoryEntry entry, DistinguishedName dn, out bool hasIdentity)
    {
        var values = entry.GetValues(_settings.IdentityAttribute);
        hasIdentity = values.Count == 1;
        if (hasIdentity)
        {
            if (_settings.Dialect == DirectoryDialect.ActiveDirectory)
            {
                if (values[0].Length == 16)
                {
                    return new Guid(values[0]).ToString("D");
                }
            }
            else
            {
                var text = Encoding.UTF8.GetString(values[0]).Trim();
                if (text.Length > 0)
                {
                    return text.ToLowerInvariant();
                }
            }

            hasIdentity = false;
        }

        return "dn-sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dn.Normalized)))[..32];
    }

    // The fingerprint covers the normalised DN and every attribute the plan relied on, with values
    // sorted (directories do not promise value order) and base64-encoded (values may be binary):
    // "<dn>\n<attribute>=<b64>[,<b64>...]\n..." hashed with SHA-256. Built in one reused buffer,
    // since it runs for every entry in scope.
    private string Fingerprint(DirectoryEntry entry, DistinguishedName dn)
    {
        var text = _canonical;
        text.ResetWrittenCount();
        AppendUtf8(text, dn.Normalized);
        text.Write("\n"u8);
        foreach (var attribute in _settings.FingerprintAttributes)
        {
            var raw = entry.GetValues(attribute);
            AppendUtf8(text, attribute);
            text.Write("="u8);
            if (raw.Count == 1)
            {
                AppendBase64(text, raw[0]);
            }
            else if (raw.Count > 1)
            {
                // Ordinal order of the base64 text, which for ASCII is the order of its bytes.
                var encoded = new byte[raw.Count][];
                for (var i = 0; i < raw.Count; i++)
                {
                    var scratch = new ArrayBufferWriter<byte>(Base64.GetMaxEncodedToUtf8Length(raw[i].Length));
                    AppendBase64(scratch, raw[i]);
                    encoded[i] = scratch.WrittenSpan.ToArray();
                }

                Array.Sort(encoded, static (a, b) => a.AsSpan().SequenceCompareTo(b));
                for (var i = 0; i < encoded.Length; i++)
                {
                    if (i > 0)
                    {
                        text.Write(","u8);
                    }

                    text.Write(encoded[i]);
                }
            }

            text.Write("\n"u8);
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(text.WrittenSpan, hash);
        return "sha256:" + Convert.ToHexStringLower(hash);
    }

    private static void AppendUtf8(ArrayBufferWriter<byte> buffer, string text)
    {
        var written = Encoding.UTF8.GetBytes(text, buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length)));
        buffer.Advance(written);
    }

    private static void AppendBase64(ArrayBufferWriter<byte> buffer, byte[] value)
    {
        var span = buffer.GetSpan(Base64.GetMaxEncodedToUtf8Length(value.Length));
        Base64.EncodeToUtf8(value, span, out _, out var written);
        buffer.Advance(written);
    }

    private sealed record EntityDraft(
        string Id,
        string Dn,
        string NormalizedDn,
        EntityKind Kind,
        IReadOnlyList<string> Waves,
        ProtectionRecord? Protection,
        MatchResult Match,
        List<Blocker> Blockers,
        string Fingerprint);

    private sealed record DecisionOutcome(DecisionStatus Status, string Note, IReadOnlyList<string> Resolved, string? Wave, MatchResult? Match)
    {
        public static DecisionOutcome Applied(string note, IReadOnlyList<string> resolved, string? wave = null, MatchResult? match = null) =>
            new(DecisionStatus.Applied, note, resolved, wave, match);

        public static DecisionOutcome Rejected(string note) => new(DecisionStatus.Rejected, note, [], null, null);
    }
}

/// <summary>A reason the planner refuses to produce a plan (a value, not an exception: the CLI exits 3).</summary>
public sealed record PlanningRefusal(string Code, string Message);

public sealed record PlanningOutcome(PlanDocument Plan, IReadOnlyList<PlanningRefusal> Refusals)
{
    public bool Refused => Refusals.Count > 0;
}
