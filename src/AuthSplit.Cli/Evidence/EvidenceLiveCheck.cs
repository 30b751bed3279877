using System.Text.Json;
using AuthSplit.Cli.Planning;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Hooks;
using AuthSplit.Ldap.Probes;
using AuthSplit.Ldap.Writing;
using Microsoft.Extensions.DependencyInjection;
using Serilog;

namespace AuthSplit.Cli.Evidence;

/// <summary>
/// <c>evidence verify --live</c>: reads the legacy directory and the tenant again, through the executor's own
/// adapters, for the entities of a pack that verified offline — every removed entity absent by identity
/// and by DN, every protected one present, every removed person's source of authority the cloud, the
/// password-sync gate still off when the pack records it — and the probes of each system the wave cut over, through
/// the ports the executor's probe steps use (composed as <c>ExecutionHost</c> composes them); records each query sent
/// and its answer.
/// </summary>
public static class EvidenceLiveCheck
{
    private const string Absent = "absent";

    /// <param name="systems">The wave's systems as the approved plan has them (its probes), from the state store.</param>
    public static async Task<LiveVerificationRecord> RunAsync(AuthSplitOptions options, EvidenceManifest manifest, LiveScope scope, IReadOnlyList<PlannedSystem> systems, ILogger log, CancellationToken cancellationToken)
    {
        // Entities absent from a directory the wave never ran against prove nothing (a pack of another store, a
        // config of another environment): the directory read must be the one the plan read, by its URL. Checked
        // before anything is read.
        if (manifest.Plan.Source is { Kind: "ldap" } planned
            && !string.Equals(planned.Location.TrimEnd('/'), (options.Source.Url ?? "").TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
        {
            throw new InputException("live-directory-mismatch", $"--config reads {options.Source.Url ?? "(no Source:Url)"}, but the wave's plan read {planned.Location}: absence from another directory proves nothing; give a config naming the directory the wave ran against (nothing was read)");
        }

        using var adapters = new AdapterFactory(log);
        var directory = adapters.OpenLegacyWriter(options.Source, options.Execution);
        var checks = new List<LiveCheck>();

        var baseDn = options.Source.BaseDn;
        foreach (var subject in scope.Deleted)
        {
            var filter = LdapWriteFilters.ByIdentity(subject.Id, directory.Dialect);
            if (filter is not null)
            {
                var found = await directory.FindByIdentityAsync(subject.Id, cancellationToken);
                checks.Add(new LiveCheck(subject.Id, "removed: absent by identity", $"LDAP search base \"{baseDn}\" scope sub filter {filter}", found.Count == 0, found.Count == 0 ? null : string.Join("; ", found.Select(e => e.Dn))));
            }

            var entry = await directory.ReadEntryAsync(subject.Dn, cancellationToken);
            checks.Add(new LiveCheck(subject.Id, "removed: absent by DN", $"LDAP search base \"{subject.Dn}\" scope base filter (objectClass=*)", entry is null, entry?.Dn));
        }

        foreach (var subject in scope.Protected)
        {
            var entry = await directory.ReadEntryAsync(subject.Dn, cancellationToken);
            checks.Add(new LiveCheck(subject.Id, "protected: present", $"LDAP search base \"{subject.Dn}\" scope base filter (objectClass=*)", entry is not null, entry is null ? Absent : null));
        }

        string? tenantDescription = null;
        if (options.Target is { } target && (scope.CloudManaged.Count > 0 || scope.GateVerified))
        {
            var tenant = adapters.OpenTargetTenant(target);
            tenantDescription = tenant.Description;
            if (scope.CloudManaged.Count > 0)
            {
                var byTarget = scope.CloudManaged.ToDictionary(s => s.TargetId!, StringComparer.Ordinal);
                foreach (var answer in await tenant.GetSourceOfAuthorityAsync([.. byTarget.Keys], cancellationToken))
                {
                    checks.Add(new LiveCheck(byTarget[answer.UserId].Id, "removed person: source of authority is the cloud", $"Graph GET /beta/users/{answer.UserId}/onPremisesSyncBehavior?$select=isCloudManaged", answer.IsCloudManaged == true,
                        answer.IsCloudManaged == true ? null : answer.Problem ?? $"isCloudManaged {answer.IsCloudManaged?.ToString() ?? "unknown"}"));
                }
            }

            if (scope.GateVerified)
            {
                var state = await tenant.GetTenantSyncStateAsync(cancellationToken);
                checks.Add(new LiveCheck($"gate:{GateNames.PasswordSync}", "tenant: password hash sync off", "Graph GET /v1.0/directory/onPremisesSynchronization", !state.PasswordSyncEnabled, state.PasswordSyncEnabled ? "passwordSyncEnabled true" : null));
            }
        }
        else if (scope.CloudManaged.Count > 0 || scope.GateVerified)
        {
            checks.Add(new LiveCheck("target", "tenant checks", "none: the config has no Target section", false, "the tenant was not read"));
        }

        IReadOnlyList<LiveSystem> probed = [];
        if (systems.Any(s => s.Wave == manifest.Wave))
        {
            await using var services = new ServiceCollection().AddSystemHooks(options).AddLdapBindProbe(options.Source).BuildServiceProvider();
            var ports = new SystemPorts(services.GetRequiredService<ICommandRunner>(), services.GetRequiredService<IHttpCaller>(), services.GetRequiredService<ILdapBindProbe>());
            var readBack = new LegacyAccountReadBack(directory.ReadEntryAsync, directory.Dialect, options.Removal.OpenLdapDisable);
            probed = await LiveSystemProbes.RunAsync(systems, manifest.Wave, manifest.PlanId, ports, readBack, TimeProvider.System, cancellationToken);
            checks.AddRange(LiveSystemProbes.Checks(probed));
        }

        var residuals = checks.Where(c => !c.Holds).ToList();
        return new LiveVerificationRecord(
            LiveVerificationRecord.CurrentFormat,
            manifest.Wave,
            manifest.PlanId,
            manifest.Ledger.LastHash,
            Core.Evidence.LedgerChain.FormatTime(TimeProvider.System.GetUtcNow()),
            directory.Description,
            tenantDescription,
            checks.Count,
            residuals.Count,
            residuals,
            checks,
            probed);
    }

    /// <summary>What <c>export --live</c> puts in the manifest: where and when, every query sent (each once), the counts and each residual.</summary>
    public static ManifestReconciliation Summary(LiveVerificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new ManifestReconciliation(
            record.At,
            record.Tenant is null ? record.Directory : $"{record.Directory}; {record.Tenant}",
            [.. record.Checks.Select(c => c.Query).Distinct(StringComparer.Ordinal)],
            record.Checked,
            record.Residual,
            [.. record.Residuals.Select(r => $"{r.Subject}: {r.Check}: {r.Found} ({r.Query})")],
            record.Systems);
    }

    public static byte[] ToJson(LiveVerificationRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, EvidenceManifest.JsonOptions);
}
