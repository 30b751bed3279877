using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Lab.Data;

namespace AuthSplit.Cli.Demo;

/// <summary>
/// What the demo puts in its directory before and after <c>lab start</c>: the company's exports, the config
/// an identity engineer would write for it (waves with their deadlines, protection of the partner's staff,
/// administrators, the break-glass account and service accounts, the systems), the systems' stand-ins and the
/// evidence signing key. Secrets are owner-only files under the lab's <c>secrets/</c>, never in the config.
/// </summary>
public sealed record DemoLayout(string Directory)
{
    public string Exports => Path.Combine(Directory, "exports");

    public string LegacyLdif => Path.Combine(Exports, "legacy.ldif");

    public string Target => Path.Combine(Exports, "target");

    public string Lab => Path.Combine(Directory, "lab");

    public string Config => Path.Combine(Lab, "authsplit.json");

    public string Secrets => Path.Combine(Lab, "secrets");

    public string SigningKey => Path.Combine(Secrets, "evidence-signing.pem");

    public string GraphAdminToken => Path.Combine(Secrets, "graph-admin.token");

    public string Systems => Path.Combine(Directory, "systems");

    public string Logs => Path.Combine(Directory, "logs");

    public string DraftPlan => Path.Combine(Directory, "plan-draft.json");

    public string DecisionsTemplate => Path.Combine(Directory, "decisions-template.json");

    public string Decisions => Path.Combine(Directory, "decisions.json");

    public string Plan => Path.Combine(Directory, "plan.json");

    public string Evidence => Path.Combine(Directory, "evidence");

    public string SystemCredential(string systemId) => Path.Combine(Secrets, "systems", systemId + ".password");
}

public static class DemoSetup
{
    public const string Engineer = "identity-engineering@example.jp";

    public static JsonObject Config(DemoLayout layout, int size, DateTimeOffset today)
    {
        string Deadline(int days) => today.UtcDateTime.Date.AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        JsonObject Wave(string name, int order, int days, string? dependsOn) => new()
        {
            ["Name"] = name,
            ["Order"] = order,
            ["Deadline"] = Deadline(days),
            ["BaseDn"] = $"ou={name},{DemoCompany.Suffix}",
            ["Filter"] = "(objectClass=inetOrgPerson)",
            ["DependsOn"] = dependsOn is null ? new JsonArray() : new JsonArray(dependsOn),
        };

        return new JsonObject
        {
            ["Waves"] = new JsonArray(Wave("hq", 1, 30, null), Wave("domestic", 2, 120, "hq"), Wave("overseas", 3, 240, "domestic")),
            ["Matching"] = new JsonArray(
                new JsonObject { ["Source"] = "employeeNumber", ["Target"] = "employeeId" },
                new JsonObject { ["Source"] = "mail", ["Target"] = "mail" }),
            ["Safety"] = new JsonObject
            {
                // The partner's staff (wherever they sit), the administrators and the break-glass account never go.
                ["ProtectedFilter"] = "(|(employeeType=partner)(employeeType=administrator)(employeeType=break-glass))",
                ["ProtectedDns"] = new JsonArray($"ou=partner,{DemoCompany.Suffix}", DemoCompany.SystemOu),
                ["MaxDeletesPerWave"] = size,
                ["MaxScopeDropPercent"] = 20,
            },
            ["Removal"] = new JsonObject { ["HoldDays"] = 0, ["OpenLdapDisable"] = "PasswordPolicyLock" },
            ["Target"] = new JsonObject
            {
                // The emulator answers in microseconds: retry quickly rather than as against Graph itself.
                ["Limits"] = new JsonObject { ["MaxRetries"] = 8, ["RetryBaseDelaySeconds"] = 0.05, ["MaxRetryDelaySeconds"] = 2, ["ReadBackDelaySeconds"] = 0.05 },
            },
            // A small company's waves run with fewer workers, so that they last long enough for the demo's fault
            // and interruption to land mid-wave; from 1,600 people on, the default 32.
            ["Execution"] = new JsonObject { ["AllowSelfApproval"] = false, ["RetryRoundDelaySeconds"] = 1, ["Concurrency"] = Math.Clamp(size / 50, 4, 32) },
            ["Evidence"] = new JsonObject { ["SigningKeyFile"] = layout.SigningKey },
        };
    }

    /// <summary>
    /// Adds the company's systems to the config <c>lab start</c> wrote: each cut over by a script standing for
    /// the system's own switch, its sign-in through the new IdP checked by a probe, its legacy bind account
    /// (whose password the demo knows, so the executor's refusal check is a real bind) disabled afterwards.
    /// </summary>
    public static async Task AddSystemsAsync(DemoLayout layout, DemoCompany company, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(layout.Systems);
        var cutover = Path.Combine(layout.Systems, "cutover.sh");
        var probe = Path.Combine(layout.Systems, "probe-sign-in.sh");
        await File.WriteAllTextAsync(cutover, $"""
            #!/bin/sh
            # Stands for a system's own switch to Entra ID (its owners' script, or a call to its admin API).
            set -eu
            printf '%s switched to Entra ID at %s\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > '{layout.Systems}'/"$1".entra
            echo "$1 now signs in through Entra ID"

            """, cancellationToken);
        await File.WriteAllTextAsync(probe, $"""
            #!/bin/sh
            # Stands for a synthetic sign-in to the system through the new IdP.
            if [ -f '{layout.Systems}'/"$1".entra ]; then echo "$1: sign-in through Entra ID works"; else echo "$1: still signs in against the legacy directory"; exit 1; fi

            """, cancellationToken);

        var credentials = System.IO.Directory.CreateDirectory(Path.Combine(layout.Secrets, "systems")).FullName;
        foreach (var account in company.ServiceAccounts.Where(a => a.SystemId is not null))
        {
            await Output.AtomicFile.WriteAsync(layout.SystemCredential(account.SystemId!), (s, ct) => s.WriteAsync(Encoding.UTF8.GetBytes(account.Password(company.Seed)), ct).AsTask(), cancellationToken);
        }

        _ = credentials;
        var config = JsonNode.Parse(await File.ReadAllTextAsync(layout.Config, cancellationToken))!.AsObject();
        config["Systems"] = new JsonArray([.. company.Systems.Select(s => (JsonNode)new JsonObject
        {
            ["Id"] = s.Id,
            ["Name"] = s.Name,
            ["Wave"] = s.Wave,
            ["LegacyAccounts"] = new JsonArray(new JsonObject { ["Dn"] = s.BindDn, ["CredentialFile"] = layout.SystemCredential(s.Id) }),
            ["Target"] = new JsonObject { ["ServicePrincipalId"] = s.ServicePrincipalId },
            ["Cutover"] = new JsonObject { ["Command"] = new JsonArray("/bin/sh", cutover, s.Id), ["TimeoutSeconds"] = 30 },
            ["Probes"] = new JsonArray(new JsonObject { ["Name"] = "sign-in", ["Kind"] = "Command", ["Command"] = new JsonArray("/bin/sh", probe, s.Id), ["TimeoutSeconds"] = 10 }),
        })]);
        await Output.AtomicFile.WriteAsync(layout.Config, (s, ct) => s.WriteAsync(Encoding.UTF8.GetBytes(config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n"), ct).AsTask(), cancellationToken);
    }

    /// <summary>The organisation's evidence signing key (ECDSA P-256, PKCS#8 PEM), owner-only.</summary>
    public static Task WriteSigningKeyAsync(DemoLayout layout, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = key.ExportPkcs8PrivateKeyPem();
        return Output.AtomicFile.WriteAsync(layout.SigningKey, (s, ct) => s.WriteAsync(Encoding.UTF8.GetBytes(pem + "\n"), ct).AsTask(), cancellationToken);
    }

    /// <summary>
    /// The decisions an identity engineer records for the blocked entities and systems, from what HR and the
    /// system owners said: leavers removed, duplicated people given their enabled account, the system whose
    /// application is still disabled excepted from its wave.
    /// </summary>
    public static JsonObject Decisions(DemoCompany company, IEnumerable<(string Id, string Dn)> blockedEntities, IEnumerable<string> blockedSystems)
    {
        var byDn = company.People.ToDictionary(p => p.Dn.ToLowerInvariant());
        var decisions = new JsonArray();
        foreach (var (id, dn) in blockedEntities)
        {
            if (!byDn.TryGetValue(dn.ToLowerInvariant(), out var person))
            {
                continue;
            }

            if (person.Role == DemoRole.Leaver)
            {
                decisions.Add(new JsonObject { ["entityId"] = id, ["decision"] = "remove", ["reason"] = $"{person.Uid} left the company; HR confirms no cloud account is due (HR-{person.EmployeeNumber})", ["decidedBy"] = Engineer });
            }
            else if (person.Role == DemoRole.Duplicated)
            {
                decisions.Add(new JsonObject { ["entityId"] = id, ["decision"] = "use-target", ["targetId"] = company.TargetId(person), ["reason"] = $"{person.Mail} is the person's account; {person.Uid}.old is a disabled duplicate made by hand", ["decidedBy"] = Engineer });
            }
        }

        foreach (var system in blockedSystems)
        {
            decisions.Add(new JsonObject { ["entityId"] = system, ["decision"] = "except-system", ["reason"] = $"{system}'s vendor moves it to Entra ID next quarter; its bind account stays until then (CAB-2207)", ["decidedBy"] = "ciso@example.jp" });
        }

        return new JsonObject { ["formatVersion"] = 1, ["decisions"] = decisions };
    }
}
