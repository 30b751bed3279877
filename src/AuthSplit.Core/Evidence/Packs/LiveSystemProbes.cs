using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Steps;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>One probe asked again: its kind, what it checked (no secret), how it ended, whether that passes, when.</summary>
public sealed record LiveProbe(string Name, string Kind, string Checked, string Status, bool Passed, string At, long DurationMs, string Detail);

/// <summary>A system of the wave in a live re-check: its probes asked again, or why none was (<see cref="Note"/>).</summary>
public sealed record LiveSystem(string Id, string Name, string Disposition, IReadOnlyList<LiveProbe> Probes, string? Note);

/// <summary>
/// <c>evidence verify --live</c> for a wave's systems: the approved plan's probes of each system it cut over,
/// run again through the executor's own ports and judged as its probe steps judge them (<see cref="SystemProbes"/>):
/// the new path still works (probe-target) and the old one is still refused (each legacy account with a
/// credential, its disabled state read back for one without, and the probes expecting a refusal).
/// </summary>
/// <summary>How the live check reads a legacy account back: the directory's read, its dialect, and how OpenLDAP accounts are disabled (<c>Removal:OpenLdapDisable</c>).</summary>
public sealed record LegacyAccountReadBack(Func<string, CancellationToken, Task<DirectoryEntry?>> ReadAsync, DirectoryDialect Dialect, OpenLdapDisableMethod OpenLdapDisable);

public static class LiveSystemProbes
{
    /// <param name="readBack">For a legacy account without a credential (no bind can be tried): its disabled state read back now, as the executor's probe step reads it.</param>
    public static async Task<IReadOnlyList<LiveSystem>> RunAsync(IEnumerable<PlannedSystem> systems, string wave, string planId, SystemPorts ports, LegacyAccountReadBack readBack, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readBack);
        ArgumentNullException.ThrowIfNull(systems);
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(time);
        var results = new List<LiveSystem>();
        foreach (var system in systems.Where(s => s.Wave == wave))
        {
            var disposition = system.Disposition.ToString().ToLowerInvariant();
            if (system.Disposition != Disposition.Remove)
            {
                results.Add(new LiveSystem(system.Id, system.Name, disposition, [], $"not cut over by this wave ({disposition}): not probed"));
                continue;
            }

            var environment = SystemProbes.Environment(system.Id, wave, planId);
            var probes = new List<LiveProbe>();
            foreach (var probe in system.Probes.Where(p => p.Expect == ProbeExpectation.Success))
            {
                probes.Add(Record(probe.Name, probe.Kind.ToString(), SystemProbes.Describe(probe), probe.Expect, time, await SystemProbes.RunAsync(ports, probe, environment, cancellationToken).ConfigureAwait(false)));
            }

            foreach (var account in system.LegacyAccounts)
            {
                if (account.CredentialSource is not { } credential)
                {
                    // No credential to bind with: the account's disabled state is read back instead, as the executor did.
                    var started = time.GetTimestamp();
                    var live = await readBack.ReadAsync(account.Dn, cancellationToken).ConfigureAwait(false);
                    bool? disabled = live is null ? null : DisableMarks.IsDisabled(live, readBack.Dialect, readBack.OpenLdapDisable);
                    probes.Add(new LiveProbe(
                        "disabled state of " + account.Dn,
                        "ReadBack",
                        $"LDAP read of {account.Dn} (scope base; no credential configured, so no bind), expect the account disabled or gone",
                        disabled switch { true => "disabled", false => "enabled", null => "absent" },
                        disabled != false,
                        LedgerChain.FormatTime(time.GetUtcNow()),
                        (long)time.GetElapsedTime(started).TotalMilliseconds,
                        disabled switch
                        {
                            true => $"{account.Dn} reads back disabled",
                            false => $"{account.Dn} is enabled again: the old path may accept it",
                            null => $"{account.Dn} no longer exists: nothing can bind as it",
                        }));
                    continue;
                }

                var outcome = await SystemProbes.BindAsLegacyAccountAsync(ports, account.Dn, credential, cancellationToken).ConfigureAwait(false);
                probes.Add(Record("bind as " + account.Dn, ProbeKind.LdapBind.ToString(), $"LDAP simple bind as {account.Dn} to the legacy directory (credential from {credential}), expect a refusal", ProbeExpectation.Failure, time, outcome));
            }

            foreach (var probe in system.Probes.Where(p => p.Expect == ProbeExpectation.Failure))
            {
                probes.Add(Record(probe.Name, probe.Kind.ToString(), SystemProbes.Describe(probe), probe.Expect, time, await SystemProbes.RunAsync(ports, probe, environment, cancellationToken).ConfigureAwait(false)));
            }

            results.Add(new LiveSystem(system.Id, system.Name, disposition, probes, probes.Count == 0 ? "no probe configured" : null));
        }

        return results;
    }

    /// <summary>Each probe as a check of the verification record: a probe that does not pass now is a residual naming its system.</summary>
    public static IEnumerable<LiveCheck> Checks(IEnumerable<LiveSystem> systems)
    {
        ArgumentNullException.ThrowIfNull(systems);
        return systems.SelectMany(system => system.Probes.Select(probe => new LiveCheck(
            "system:" + system.Id,
            $"{system.Name}: probe {probe.Name} ({probe.Kind})",
            probe.Checked,
            probe.Passed,
            probe.Passed ? null : $"{probe.Status}: {probe.Detail}")));
    }

    private static LiveProbe Record(string name, string kind, string what, ProbeExpectation expect, TimeProvider time, HookOutcome outcome) => new(
        name,
        kind,
        what,
        outcome.Status.ToString().ToLowerInvariant(),
        SystemProbes.Passed(expect, outcome),
        LedgerChain.FormatTime(time.GetUtcNow()),
        (long)outcome.Duration.TotalMilliseconds,
        outcome.Detail);
}
