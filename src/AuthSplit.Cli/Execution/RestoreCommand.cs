using System.CommandLine;
using System.Text.Json;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Planning;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Restoring;
using AuthSplit.Core.Planning.Format;
using Serilog;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// <c>authsplit restore --config F --entity ID [--as NAME]</c>: re-creates a deleted legacy entry from its
/// backup, its group memberships included, and records the restore in the ledger of its wave.
/// </summary>
public static class RestoreCommand
{
    public static Command Create(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var entity = new Option<string>("--entity", "-e") { Description = "The entity's id as the plan and status give it (entryUUID or objectGUID).", Required = true };
        var @as = ExecutionOptionsOnCommandLine.As();
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var command = new Command("restore", "Re-create a deleted legacy entry and its memberships from its backup (AD: a new object; the AD Recycle Bin gives the original back).") { config, entity, @as, logDir };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, parse.GetValue(logDir), false, (log, ct) =>
            RestoreAsync(console, log, parse.GetRequiredValue(config), parse.GetRequiredValue(entity), parse.GetValue(@as), ct), cancellationToken));
        return command;
    }

    private static async Task<int> RestoreAsync(CliConsole console, ILogger log, string configPath, string entityId, string? givenOperator, CancellationToken cancellationToken)
    {
        var options = ConfigLoader.Load(configPath, requireLiveSource: true, log);
        var who = OperatorName.Resolve(givenOperator, "--as");
        await using var state = await StateComposition.OpenAsync(options, configPath, cancellationToken);
        var backup = await state.Store.GetBackupAsync(entityId, cancellationToken)
            ?? throw new InputException("no-backup", $"the state store ({state.Store.Description}) holds no backup of entity \"{PrintableText.Escape(entityId)}\": only entries the executor backed up can be restored (authsplit status --wave W lists the ids)");
        using var adapters = new AdapterFactory(log);
        var writer = adapters.OpenLegacyWriter(options.Source, options.Execution);
        var dialect = options.Source.Dialect;
        var recipe = RestoreRecipes.For(backup, dialect);
        var added = await writer.AddAsync(recipe.Entry, cancellationToken);
        if (added.Status == LegacyWriteStatus.Rejected && recipe.KeepsIdentity && dialect == DirectoryDialect.OpenLdap)
        {
            log.Warning("The directory refused to restore {Dn} with its entryUUID ({Detail}); restoring it with a new one", recipe.Entry.Dn, added.Detail);
            await console.Error.WriteLineAsync($"warning: the directory refused to keep the entry's entryUUID ({added.Detail}); it is restored with a new one (the bind account needs manage access for the Relax Rules control to keep it).");
            recipe = RestoreRecipes.For(backup, dialect, keepIdentity: false);
            added = await writer.AddAsync(recipe.Entry, cancellationToken);
        }

        var leftOutLinks = new List<string>();
        if ((added.Status == LegacyWriteStatus.NoSuchObject || added.Detail?.StartsWith("constraintViolation (19)", StringComparison.Ordinal) == true)
            && DistinguishedName.Parse(recipe.Entry.Dn).Parent is { Rdns.Count: > 0 } parent
            && await writer.ReadEntryAsync(parent.Original, cancellationToken) is not null)
        {
            // The parent is there, so a value may name an entry that is not: AD refuses an add whose link
            // values point at deleted objects (Samba: noSuchObject for a member, constraintViolation
            // "Referenced object not found" for a manager), e.g. a group member who left after the group's
            // backup, or a manager who left in the same wave. Those values are left out, and said so.
            var (entry, missing) = await WithoutLinksToMissingEntriesAsync(writer, recipe.Entry, options.Source.BaseDn, cancellationToken);
            if (missing.Count > 0)
            {
                recipe = recipe with { Entry = entry };
                leftOutLinks = missing;
                added = await writer.AddAsync(recipe.Entry, cancellationToken);
            }
        }

        switch (added.Status)
        {
            case LegacyWriteStatus.Done:
                break;
            case LegacyWriteStatus.AlreadyExists:
                var present = await writer.ReadEntryAsync(recipe.Entry.Dn, cancellationToken);
                if (present is null || !SameIdentity(present, recipe, dialect))
                {
                    throw new InputException("restore-occupied", $"an entry other than the backup's already exists at \"{PrintableText.Escape(recipe.Entry.Dn)}\": nothing was restored; move or remove it first");
                }

                await console.Output.WriteLineAsync($"The entry is already back at {recipe.Entry.Dn}; checking its memberships.");
                break;
            case LegacyWriteStatus.NoSuchObject:
                throw new InputException("restore-parent-missing", $"the parent of \"{PrintableText.Escape(recipe.Entry.Dn)}\" no longer exists: re-create it first, then run restore again");
            default:
                throw new ExternalSystemException(writer.Description, $"the directory refused to re-create \"{recipe.Entry.Dn}\": {added.Detail}");
        }

        var groups = new List<string>();
        var missingGroups = new List<string>();
        foreach (var group in recipe.Groups)
        {
            var result = await writer.ModifyAsync(group.GroupDn, [group.Change], cancellationToken);
            switch (result.Status)
            {
                case LegacyWriteStatus.Done or LegacyWriteStatus.AlreadyInState:
                    groups.Add(group.GroupDn);
                    break;
                case LegacyWriteStatus.NoSuchObject:
                    missingGroups.Add(group.GroupDn);
                    break;
                default:
                    throw new ExternalSystemException(writer.Description, $"the entry is back, but adding it to group \"{group.GroupDn}\" was refused: {result.Detail}; run restore again once that is fixed");
            }
        }

        var notes = recipe.Notes.ToList();
        notes.AddRange(leftOutLinks.Select(link => $"left out {link}: no such entry any more (deleted since the backup was taken)"));
        var primaryGroup = dialect == DirectoryDialect.ActiveDirectory ? await PrimaryGroupNotRestoredAsync(writer, backup.Entry, recipe.Entry.Dn, cancellationToken) : null;
        if (primaryGroup is not null)
        {
            notes.Add(primaryGroup);
        }

        var data = JsonSerializer.Serialize(new RestoreData(recipe.Entry.Dn, groups, missingGroups, recipe.KeepsIdentity, recipe.CreatedDisabled, recipe.LeftOut, notes));
        var record = await state.Store.RecordRestoreAsync(new RestoreRecord(backup.PlanId, backup.Wave, backup.EntityId, new ExecutionActor(who, Environment.MachineName), TimeProvider.System.GetUtcNow(), data), cancellationToken);
        log.Information("Entity {EntityId} restored to {Dn} by {Operator} (ledger record {Sequence})", backup.EntityId, recipe.Entry.Dn, who, record.Sequence);
        await console.Output.WriteLineAsync($"Restored {recipe.Entry.Dn} from its backup of {backup.TakenAt:yyyy-MM-dd HH:mm}Z with {groups.Count} group membership(s); recorded in the ledger (record {record.Sequence}).");
        foreach (var missing in missingGroups)
        {
            await console.Error.WriteLineAsync($"warning: group {missing} no longer exists; that membership was not restored.");
        }

        foreach (var note in recipe.Notes)
        {
            await console.Output.WriteLineAsync("note: " + note);
        }

        if (primaryGroup is not null)
        {
            await console.Error.WriteLineAsync("warning: " + primaryGroup);
        }

        foreach (var link in leftOutLinks)
        {
            await console.Error.WriteLineAsync($"warning: left out {link}: no such entry any more (deleted since the backup was taken); the rest of the entry is restored.");
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// The entry without the values that name an entry (a DN under Source:BaseDn) which no longer exists,
    /// and those values as "attribute value" for the operator.
    /// </summary>
    private static async Task<(Core.Model.DirectoryEntry Entry, List<string> Missing)> WithoutLinksToMissingEntriesAsync(ILegacyDirectoryWriter writer, Core.Model.DirectoryEntry entry, string? baseDn, CancellationToken cancellationToken)
    {
        var scope = baseDn is not null && DistinguishedName.TryParse(baseDn, out var parsed, out _) ? parsed : null;
        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(StringComparer.OrdinalIgnoreCase);
        var missing = new List<string>();
        foreach (var (name, values) in entry.Attributes)
        {
            var kept = new List<byte[]>();
            foreach (var value in values)
            {
                var text = System.Text.Encoding.UTF8.GetString(value);
                if (DistinguishedName.TryParse(text, out var dn, out _) && dn.Rdns.Count > 1 && (scope is null || dn.IsWithin(scope))
                    && await writer.ReadEntryAsync(text, cancellationToken) is null)
                {
                    missing.Add($"{name} {text}");
                }
                else
                {
                    kept.Add(value);
                }
            }

            if (kept.Count > 0)
            {
                attributes[name] = kept;
            }
        }

        return (new Core.Model.DirectoryEntry(entry.Dn, attributes), missing);
    }

    /// <summary>
    /// AD keeps the membership in an account's primary group in its primaryGroupID, not in the group's
    /// member values, so the backup's group list does not hold it and the add leaves primaryGroupID to AD
    /// (Domain Users). Null when the re-created account has the backup's primary group; otherwise what to do.
    /// </summary>
    private static async Task<string?> PrimaryGroupNotRestoredAsync(ILegacyDirectoryWriter writer, Core.Model.DirectoryEntry backedUp, string dn, CancellationToken cancellationToken)
    {
        if (backedUp.GetString("primaryGroupID") is not { } wanted || await writer.ReadEntryAsync(dn, cancellationToken) is not { } restored)
        {
            return null;
        }

        var now = restored.GetString("primaryGroupID");
        return now == wanted
            ? null
            : $"its primary group was not restored: primaryGroupID was {wanted} (the group whose objectSid ends in -{wanted}) and is {now ?? "unset"} now; add the account to that group and set its primaryGroupID to {wanted} if it is to be as it was";
    }

    // What an operator is told to change on a restored account (enable it, set a password): not evidence against it being ours.
    private static readonly HashSet<string> ChangedAfterRestore = new(StringComparer.OrdinalIgnoreCase) { "userAccountControl", "userPassword" };

    /// <summary>
    /// Whether the entry found at the backup's DN is this backup's restored entry. With a kept identity
    /// (OpenLDAP's entryUUID) that decides. Without one (Active Directory always, OpenLDAP when the Relax add
    /// was refused) the DN alone cannot tell it from another entry created there since the delete, a new
    /// hire of the same name, who would then be given the deleted entry's group memberships: on AD the
    /// account name (sAMAccountName, unique in the domain) must be the backup's, otherwise every value the
    /// restore writes must be there.
    /// </summary>
    private static bool SameIdentity(Core.Model.DirectoryEntry present, RestoreRecipe recipe, DirectoryDialect dialect)
    {
        var attribute = Core.Planning.Preconditions.EntityIdentity.AttributeFor(dialect);
        var wanted = recipe.Entry.GetValues(attribute);
        if (wanted.Count > 0)
        {
            var found = present.GetValues(attribute);
            return found.Count == 1 && wanted[0].AsSpan().SequenceEqual(found[0]);
        }

        if (dialect == DirectoryDialect.ActiveDirectory && recipe.Entry.GetString("sAMAccountName") is { } account)
        {
            return string.Equals(present.GetString("sAMAccountName"), account, StringComparison.OrdinalIgnoreCase);
        }

        return recipe.Entry.Attributes
            .Where(a => !ChangedAfterRestore.Contains(a.Key))
            .All(a => a.Value.All(value => present.GetValues(a.Key).Any(p => p.AsSpan().SequenceEqual(value))));
    }

    private sealed record RestoreData(string Dn, IReadOnlyList<string> Groups, IReadOnlyList<string> MissingGroups, bool KeptIdentity, bool CreatedDisabled, IReadOnlyList<string> LeftOut, IReadOnlyList<string> Notes);
}
