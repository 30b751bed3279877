using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Steps;

internal sealed partial class EntityRun
{
    // backup-legacy-entry: the whole entry and every group listing it, stored before any legacy write.
    private async Task<StepResult> BackupAsync()
    {
        var located = await LocateAsync();
        if (located.Stale is not null)
        {
            return located.Stale;
        }

        var live = located.Live!;
        var groups = await _wave.Legacy.FindGroupsListingAsync(live.Dn, CancellationToken.None);
        _groupsAtBackup = (live.Dn, groups);
        var (entry, revertedFor) = await WithoutEarlierPlansDisableAsync(live);
        var takenAt = _wave.Time.GetUtcNow();
        var stored = await _wave.Store.StoreBackupAsync(
            new EntryBackup { PlanId = _wave.PlanId, Wave = _wave.Wave.Name, EntityId = _entity.Id, Entry = entry, Groups = groups, TakenAt = takenAt },
            CancellationToken.None);
        _backup = stored;
        var record = new JsonObject
        {
            ["dn"] = live.Dn,
            ["sha256"] = stored.Sha256,
            ["attributes"] = stored.Entry.Attributes.Count,
            ["groups"] = StepJson.Array(stored.Groups.Select(g => g.GroupDn)),
        };
        if (revertedFor is not null && stored.TakenAt == takenAt)
        {
            record["disableRevertedFrom"] = revertedFor;
        }

        var after = StepJson.Of(record);
        return stored.TakenAt == takenAt ? StepResult.Done(StepJson.Of(new JsonObject { ["dn"] = live.Dn }), after) : StepResult.AlreadyDone(after);
    }

    // An entry an earlier plan of this entity already disabled (its delete was held, and the wave was
    // re-planned, e.g. with an accept-group-loss decision) is read disabled by the new plan: its backup
    // would bring the account back disabled, as the restore takes the newest backup. The executor's own
    // disable is reverted to the earlier backup's values (as the precondition check does), so the backup
    // holds the entry as it was before AuthSplit's first write; returns the earlier plan's id when it did.
    private async Task<(DirectoryEntry Entry, string? RevertedFor)> WithoutEarlierPlansDisableAsync(DirectoryEntry live) =>
        DisableMarks.WithoutEarlierPlansDisable(live, await _wave.Store.GetBackupAsync(_entity.Id, CancellationToken.None), _wave.PlanId, _wave.Dialect, _wave.Settings.OpenLdapDisable);

    // disable-legacy-account: AD userAccountControl |= ACCOUNTDISABLE from the value read; OpenLDAP as
    // Removal:OpenLdapDisable says (the ppolicy lock, or a password nothing can match).
    private async Task<StepResult> DisableAsync()
    {
        var located = await LocateAsync();
        if (located.Stale is not null)
        {
            return located.Stale;
        }

        var live = located.Live!;
        var method = _wave.Settings.OpenLdapDisable;
        var before = DisableState(live);
        if (DisableMarks.IsDisabled(live, _wave.Dialect, method))
        {
            return StepResult.AlreadyDone(before);
        }

        if (DisableMarks.ChangeFor(live, _wave.Dialect, method) is not { } change)
        {
            return StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"{live.Dn} has no readable userAccountControl"), before);
        }

        _liveRead = null;
        var result = await _scope.ModifyEntryAsync(live.Dn, [change], CancellationToken.None);
        if (result.Status is not (LegacyWriteStatus.Done or LegacyWriteStatus.AlreadyInState))
        {
            var hint = _wave.Dialect == DirectoryDialect.OpenLdap && method == OpenLdapDisableMethod.PasswordPolicyLock ? " (pwdAccountLockedTime needs the ppolicy overlay loaded)" : string.Empty;
            return WriteFailed(result, $"disabling {live.Dn}{hint}", before);
        }

        var readBack = await _wave.Legacy.ReadEntryAsync(live.Dn, CancellationToken.None);
        _liveRead = readBack;
        return readBack is not null && DisableMarks.IsDisabled(readBack, _wave.Dialect, method)
            ? StepResult.Done(before, DisableState(readBack))
            : StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"{_wave.Legacy.Description} accepted the disable of {live.Dn} but reading it back does not show it disabled"), before);
    }

    // quarantine-legacy-entry: move under Removal:QuarantineDn; later steps use the new DN.
    private async Task<StepResult> QuarantineAsync()
    {
        var located = await LocateAsync();
        if (located.Stale is not null)
        {
            return located.Stale;
        }

        var quarantined = _scope.QuarantinedDn!;
        var live = located.Live!;
        var before = StepJson.Of(new JsonObject { ["dn"] = live.Dn });
        if (DistinguishedName.Parse(live.Dn).Equals(quarantined))
        {
            return StepResult.AlreadyDone(before);
        }

        // The groups the backup found were searched at the DN the entry leaves.
        _liveRead = null;
        _groupsAtBackup = null;
        var result = await _scope.MoveToQuarantineAsync(live.Dn, CancellationToken.None);
        if (result.Status != LegacyWriteStatus.Done)
        {
            var why = result.Status switch
            {
                LegacyWriteStatus.AlreadyExists => $"an entry already exists at {quarantined.Original}",
                LegacyWriteStatus.NoSuchObject => $"the quarantine container {_wave.QuarantineParent!.Original} (Removal:QuarantineDn) does not exist",
                _ => $"moving {live.Dn} under {_wave.QuarantineParent!.Original}",
            };
            return WriteFailed(result, why, before);
        }

        var newDn = result.Dn ?? quarantined.Original;
        var readBack = await _wave.Legacy.ReadEntryAsync(newDn, CancellationToken.None);
        if (readBack is null)
        {
            return StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"{_wave.Legacy.Description} accepted the move of {live.Dn} but nothing reads back at {newDn}"), before);
        }

        _currentDn = readBack.Dn;
        _liveRead = readBack;
        return StepResult.Done(before, StepJson.Of(new JsonObject { ["dn"] = readBack.Dn }));
    }

    // hold: HoldUntil = when the account was disabled + Removal:HoldDays; the entity waits, then continues.
    private StepResult Hold()
    {
        var until = HoldUntil();
        var after = StepJson.Of(new JsonObject { ["holdUntil"] = until.ToString("O", CultureInfo.InvariantCulture) });
        return _wave.Time.GetUtcNow() >= until
            ? StepResult.Done(null, after)
            : new StepResult(StepOutcome.Waiting, null, after, $"hold: until {until.ToString("O", CultureInfo.InvariantCulture)} (Removal:HoldDays {_wave.HoldDays})") { HoldUntil = until };
    }

    private DateTimeOffset HoldUntil()
    {
        var disabled = _journal.LastOrDefault(r => r.Step == StepAction.DisableLegacyAccount && r.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone)?.At
            ?? _journal.FirstOrDefault(r => r.Step == StepAction.Hold)?.At
            ?? _wave.Time.GetUtcNow();
        return disabled.AddDays(_wave.HoldDays);
    }

    // delete-legacy-entry: only with this plan's backup stored and, for people, the cloud switch verified.
    // OpenLDAP: the DN is first taken out of every group listing it (AD removes link values itself). A
    // groupOfNames/groupOfUniqueNames whose only member is this entry cannot lose it (the attribute is
    // mandatory). When that group is itself removed by this wave, it keeps the member until its own
    // delete. Otherwise the entity fails with last-member before anything is written, and an operator
    // adds another member or deletes the group, then runs the wave again. Nothing is improvised in a
    // group the plan does not remove (no placeholder member, no dangling DN left behind silently).
    private async Task<StepResult> DeleteAsync(int attempt, StepAction[] steps)
    {
        var located = await LocateAsync();
        if (located.Stale is not null)
        {
            return located.Stale;
        }

        if (located.Live is null)
        {
            return StepResult.AlreadyDone(StepJson.Of(new JsonObject { ["dn"] = _currentDn, ["absent"] = "deleted by an earlier attempt of this plan" }));
        }

        var live = located.Live;
        var before = StepJson.Of(new JsonObject { ["dn"] = live.Dn });
        if (await BackupOfThisPlanAsync() is null)
        {
            return StepResult.Refused(ReasonCodes.Format(ReasonCodes.NoBackup, $"no backup of {live.Dn} is stored for this plan; nothing is deleted without one"), before);
        }

        if (steps.Contains(StepAction.VerifyCloudManaged) && !Completed(StepAction.VerifyCloudManaged))
        {
            return StepResult.Refused(ReasonCodes.Format(ReasonCodes.NotCloudManaged, "the person's source of authority is not verified cloud-managed; deleting a synchronised entry deletes the cloud account at the next sync"), before);
        }

        var listings = new List<(GroupListing Group, string MemberDn)>();
        var keptForGroupDelete = new List<string>();
        if (_wave.Dialect == DirectoryDialect.OpenLdap)
        {
            foreach (var dn in new[] { live.Dn, _entity.Dn }.Distinct(StringComparer.Ordinal))
            {
                // The backup step of this run searched this very DN (no move since, which forgets it), a
                // journal commit or two ago: its answer is what a search now would give, short of a group
                // gaining the member within those milliseconds (a gap a search here leaves open too, up to
                // the delete). Whether a group would be left empty is decided below on the group as read
                // now, under its lock, whatever the listing's age.
                var groups = _groupsAtBackup is { } atBackup && string.Equals(atBackup.Dn, dn, StringComparison.Ordinal)
                    ? atBackup.Groups
                    : await _wave.Legacy.FindGroupsListingAsync(dn, CancellationToken.None);
                foreach (var group in groups)
                {
                    listings.Add((group, dn));
                }
            }
        }

        var locks = listings.Select(l => DistinguishedName.Parse(l.Group.GroupDn).Normalized).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(dn => _wave.GroupLocks.GetOrAdd(dn, static _ => new SemaphoreSlim(1, 1))).ToArray();
        foreach (var gate in locks)
        {
            await gate.WaitAsync(CancellationToken.None);
        }

        var cleaned = new List<string>();
        try
        {
            var lastMember = new List<string>();
            foreach (var (group, memberDn) in listings.ToArray())
            {
                var entry = await _wave.Legacy.ReadEntryAsync(group.GroupDn, CancellationToken.None);
                if (entry is not null && IsOnlyMember(entry, group.Attribute, memberDn))
                {
                    if (_wave.RemovedInWave.Contains(DistinguishedName.Parse(group.GroupDn).Normalized))
                    {
                        // The group goes in this wave too (its backup lists the member): it keeps its last
                        // member until its own delete.
                        listings.Remove((group, memberDn));
                        keptForGroupDelete.Add(group.GroupDn);
                    }
                    else
                    {
                        lastMember.Add(group.GroupDn);
                    }
                }
            }

            if (lastMember.Count > 0)
            {
                return StepResult.Failed(
                    ReasonCodes.Format(ReasonCodes.LastMember, $"{live.Dn} is the only member of {string.Join("; ", lastMember)}, which must keep one; add another member or delete the group, then run the wave again (the entry stays disabled)"),
                    StepJson.Of(new JsonObject { ["dn"] = live.Dn, ["lastMemberOf"] = StepJson.Array(lastMember) }));
            }

            // On record before the irreversible part: an entry found absent later is this plan's own delete.
            // The membership edits change the entry too (memberOf), so its last read no longer stands.
            _liveRead = null;
            await RecordAsync(StepAction.DeleteLegacyEntry, attempt, new StepResult(StepOutcome.Started, before));
            foreach (var (group, memberDn) in listings)
            {
                var change = await _scope.RemoveMembershipAsync(group, memberDn, CancellationToken.None);
                if (change.Status is LegacyWriteStatus.Rejected or LegacyWriteStatus.AlreadyExists)
                {
                    return WriteFailed(change, $"removing {memberDn} from {group.GroupDn}", before);
                }

                if (change.Status == LegacyWriteStatus.Done)
                {
                    cleaned.Add(group.GroupDn);
                }
            }
        }
        finally
        {
            foreach (var gate in locks)
            {
                gate.Release();
            }
        }

        var deleted = await _scope.DeleteEntryAsync(live.Dn, CancellationToken.None);
        // NoSuchObject here is the adapter's retry of a delete that went through the first time: the
        // backup is stored and the attempt is on record, so it is this plan's own delete.
        if (deleted.Status is not (LegacyWriteStatus.Done or LegacyWriteStatus.NoSuchObject))
        {
            return WriteFailed(deleted, $"deleting {live.Dn}", before);
        }

        var readBack = await _wave.Legacy.ReadEntryAsync(live.Dn, CancellationToken.None);
        if (readBack is not null)
        {
            return StepResult.Failed(ReasonCodes.Format(ReasonCodes.StillPresent, $"{_wave.Legacy.Description} accepted the delete of {live.Dn} but it still reads back"), before);
        }

        return StepResult.Done(before, StepJson.Of(new JsonObject
        {
            ["deleted"] = live.Dn,
            ["backupSha256"] = _backup!.Sha256,
            ["groupsCleaned"] = StepJson.Array(cleaned),
            ["groupsLeftToTheirOwnDelete"] = StepJson.Array(keptForGroupDelete),
        }));
    }

    // verify-legacy-absent: nothing by identity, nothing at the planned DN nor at the quarantine DN.
    private async Task<StepResult> VerifyAbsentAsync()
    {
        var found = (await _wave.Legacy.FindByIdentityAsync(_entity.Id, CancellationToken.None)).Select(e => e.Dn).ToList();
        foreach (var dn in new[] { _entity.Dn, _scope.QuarantinedDn?.Original }.OfType<string>())
        {
            if (await _wave.Legacy.ReadEntryAsync(dn, CancellationToken.None) is not null)
            {
                found.Add(dn);
            }
        }

        var after = StepJson.Of(new JsonObject { ["identity"] = _entity.Id, ["found"] = StepJson.Array(found.Distinct(StringComparer.Ordinal)) });
        return found.Count == 0
            ? StepResult.Done(null, after)
            : StepResult.Failed(ReasonCodes.Format(ReasonCodes.StillPresent, $"still found after the delete: {string.Join("; ", found.Distinct(StringComparer.Ordinal))}"), after);
    }

    private static bool IsOnlyMember(DirectoryEntry group, string attribute, string memberDn)
    {
        var values = group.GetValues(attribute);
        if (values.Count != 1)
        {
            return false;
        }

        var member = DistinguishedName.Parse(memberDn);
        return DistinguishedName.TryParse(Encoding.UTF8.GetString(values[0]), out var only, out _) && only.Equals(member);
    }

    private string DisableState(DirectoryEntry entry) => StepJson.Of(DisableMarks.StateOf(entry, _wave.Dialect, _wave.Settings.OpenLdapDisable));

    private static AttributeChange Replace(string attribute, string value) =>
        new(AttributeChangeKind.Replace, attribute, [Encoding.UTF8.GetBytes(value)]);

    private StepResult WriteFailed(LegacyWriteResult result, string what, string? before) =>
        StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"{_wave.Legacy.Description} refused {what}: {result.Status}{(result.Detail is null ? string.Empty : " " + result.Detail)}"), before);
}
