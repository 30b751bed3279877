using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Execution.Steps;

internal sealed partial class EntityRun
{
    /// <summary>
    /// Where the entity's live entry is and whether the plan still applies to it. <see cref="AsPlanned"/> is
    /// the live entry as the plan would see it, the executor's own changes (its disable, its quarantine
    /// move) taken back, so a resumed entity is never called stale for what this executor did to it; the
    /// journal and the backup say what that was. Null <see cref="Live"/> without <see cref="Stale"/>: the
    /// entry is gone by this executor's own delete.
    /// </summary>
    private sealed record Location(DirectoryEntry? Live, DirectoryEntry? AsPlanned, StepResult? Stale);

    /// <remarks>
    /// The entry is read once per step, except that a legacy step uses the entry as the previous step of
    /// the same run left it in <see cref="_liveRead"/>: the opening check's read, a step's read, or the
    /// read-back after its write. That entry was read after this run's last write to it (every write forgets
    /// it first, and only a read after the write sets it again), so the checks below give the answer a read
    /// at that moment gives; and the run holds it only across the journal commits between two legacy steps
    /// (the target steps, which can wait for seconds, forget it). What a second read a commit later would
    /// add is a look at a change someone else makes within those milliseconds. No read closes that gap: a change can as well land
    /// between a step's read and its write (the writes carry no assertion), and the next read at the entry,
    /// the read-back or verify-legacy-absent, sees what is there. A new run (a resumed, held or retried
    /// entity) starts without it and reads afresh.
    /// </remarks>
    private async Task<Location> LocateAsync()
    {
        var io = CancellationToken.None;
        var live = _liveRead;
        if (live is null)
        {
            live = await _wave.Legacy.ReadEntryAsync(_currentDn, io);
            var otherDn = OtherDn();
            if (live is null && otherDn is not null)
            {
                live = await _wave.Legacy.ReadEntryAsync(otherDn, io);
                if (live is not null)
                {
                    _currentDn = otherDn;
                }
            }

            _liveRead = live;
        }

        var backup = await BackupOfThisPlanAsync();
        if (live is null)
        {
            if (backup is not null && _journal.Exists(r => r.Step == StepAction.DeleteLegacyEntry))
            {
                return new Location(null, null, null);
            }

            var found = await _wave.Legacy.FindByIdentityAsync(_entity.Id, io);
            var before = StepJson.Of(new JsonObject { ["planned"] = _entity.Dn, ["found"] = StepJson.Array(found.Select(f => f.Dn)) });
            return new Location(null, null, found.Count switch
            {
                0 => StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleVanished, $"no entry at {_entity.Dn} and none with identity {_entity.Id}"), before),
                1 => StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleMoved, $"planned at {_entity.Dn}, found at {found[0].Dn}"), before),
                _ => StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleAmbiguous, $"{found.Count} entries carry identity {_entity.Id}: {string.Join("; ", found.Select(f => f.Dn))}"), before),
            });
        }

        var atQuarantine = _scope.QuarantinedDn is { } quarantined && DistinguishedName.TryParse(live.Dn, out var liveDn, out _) && liveDn.Equals(quarantined);
        if (atQuarantine && backup is null)
        {
            // Only this executor's move puts an entry there after its backup; without one it is someone else's.
            return new Location(live, null, StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleMoved, $"planned at {_entity.Dn}, found at {live.Dn} before this executor moved it"), StepJson.Of(new JsonObject { ["planned"] = _entity.Dn, ["found"] = live.Dn })));
        }

        var asPlanned = backup is not null ? DisableMarks.RevertOwn(live, backup.Entry, atQuarantine ? _entity.Dn : live.Dn) : live;
        var check = _precondition.Check(_entity.Precondition, asPlanned);
        if (check != PreconditionCheck.Holds && backup is not null && !atQuarantine && _precondition.Check(_entity.Precondition, live) == PreconditionCheck.Holds)
        {
            // A plan made after the disable (a new plan of a wave begun under another, its backup carried
            // over): its fingerprint is of the disabled entry, as it is now.
            asPlanned = live;
            check = PreconditionCheck.Holds;
        }

        if (check == PreconditionCheck.Holds)
        {
            return new Location(live, asPlanned, null);
        }

        if (check == PreconditionCheck.Moved)
        {
            return new Location(live, asPlanned, StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleMoved, $"planned at {_entity.Precondition.Dn}, found at {live.Dn}"), StepJson.Of(new JsonObject { ["planned"] = _entity.Dn, ["found"] = live.Dn })));
        }

        var dn = DistinguishedName.Parse(asPlanned.Dn);
        var identity = EntityIdentity.Of(asPlanned, dn, _wave.Dialect, out _);
        if (!string.Equals(identity, _entity.Id, StringComparison.OrdinalIgnoreCase))
        {
            return new Location(live, asPlanned, StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleReplaced, $"the entry at {live.Dn} is another object now (identity {identity}, planned {_entity.Id})"), FingerprintJson(live)));
        }

        var now = _precondition.Of(asPlanned, dn);
        return new Location(live, asPlanned, StepResult.Stale(
            ReasonCodes.Format(ReasonCodes.StaleChanged, $"an attribute the plan relied on changed at {live.Dn} (fingerprint {_entity.Precondition.Sha256} planned, {now.Sha256} now); the live values are in the journal's before, the planned ones in the plan's source snapshot"),
            FingerprintJson(live)));
    }

    private string? OtherDn()
    {
        if (_scope.QuarantinedDn is not { } quarantined)
        {
            return null;
        }

        return string.Equals(_currentDn, _entity.Dn, StringComparison.Ordinal) ? quarantined.Original : _entity.Dn;
    }

    private async Task<EntryBackup?> BackupOfThisPlanAsync()
    {
        if (_backup is null && _journal.Exists(r => r.Step == StepAction.BackupLegacyEntry && r.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone))
        {
            var stored = await _wave.Store.GetBackupAsync(_entity.Id, CancellationToken.None);
            // This plan's backup, or the earlier plan's whose backup step this plan carried over.
            _backup = stored is not null && (stored.PlanId == _wave.PlanId || StepJournal.IsCarriedOver(_journal, StepAction.BackupLegacyEntry)) ? stored : null;
        }

        return _backup;
    }

    // The live values of the attributes the plan relied on: what an operator compares with the snapshot.
    private string FingerprintJson(DirectoryEntry live)
    {
        var values = new JsonObject();
        foreach (var attribute in _wave.FingerprintAttributes)
        {
            values[attribute] = StepJson.Array(live.GetValues(attribute).Select(Printable));
        }

        return StepJson.Of(new JsonObject { ["dn"] = live.Dn, ["fingerprintAttributes"] = values });
    }

    private static string Printable(byte[] value)
    {
        try
        {
            var text = new UTF8Encoding(false, true).GetString(value);
            return text.Any(char.IsControl) ? "base64:" + Convert.ToBase64String(value) : text;
        }
        catch (DecoderFallbackException)
        {
            return "base64:" + Convert.ToBase64String(value);
        }
    }
}
