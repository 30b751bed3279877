using System.Globalization;
using System.Text.Json.Nodes;

namespace AuthSplit.Cli.Rehearsal;

/// <summary>
/// The config <c>lab start</c> writes (<c>D/authsplit.json</c>): the source is the lab's slapd over LDAPS
/// (verified against the lab's CA) as its administrator, the target the Graph emulator with a static token,
/// the secrets in owner-only files under D, the state store beside the config. One wave per top-level
/// unit that holds people (or the units <c>--waves</c> names), in the export's order, none depending on
/// another. A config already in D keeps everything but the servers' addresses and secrets, so waves an
/// operator edited survive a restart of the lab.
/// </summary>
public static class LabConfig
{
    /// <summary>What the config's Source points at: slapd (OpenLdap) or the Samba AD DC (ActiveDirectory).</summary>
    /// <param name="MatchOn">The source attribute matched to the target's employeeId.</param>
    public sealed record LabSource(string LdapsUrl, string CaFile, string AdminDn, string BaseDn, string Dialect, string MatchOn)
    {
        public bool ActiveDirectory => Dialect == "ActiveDirectory";
    }

    public static JsonObject Create(LabLayout layout, LabSeed seed, IReadOnlyList<LabUnit> waves, string ldapsUrl, string caFile, string adminDn, Uri graphUrl, DateTimeOffset now) =>
        Create(layout, seed.Entries, waves, new LabSource(ldapsUrl, caFile, adminDn, seed.Suffix, "OpenLdap", "employeeNumber"), graphUrl, now);

    /// <summary>A new config for <paramref name="source"/>; an AD lab's waves select people as AD operators do (objectCategory=person, objectClass=user).</summary>
    public static JsonObject Create(LabLayout layout, int entries, IReadOnlyList<LabUnit> waves, LabSource source, Uri graphUrl, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(source);
        var deadline = now.UtcDateTime.Date.AddDays(90).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var config = new JsonObject
        {
            ["Waves"] = new JsonArray([.. waves.Select((unit, index) => (JsonNode)new JsonObject
            {
                ["Name"] = unit.Name,
                ["Order"] = index + 1,
                ["Deadline"] = deadline,
                ["BaseDn"] = unit.Dn,
                ["Filter"] = source.ActiveDirectory ? "(&(objectCategory=person)(objectClass=user))" : "(objectClass=inetOrgPerson)",
            })]),
            ["Matching"] = new JsonArray(
                new JsonObject { ["Source"] = source.MatchOn, ["Target"] = "employeeId" },
                new JsonObject { ["Source"] = "mail", ["Target"] = "mail" }),
            ["Safety"] = new JsonObject { ["MaxDeletesPerWave"] = Math.Max(1, entries) },
            ["Removal"] = source.ActiveDirectory
                ? new JsonObject { ["HoldDays"] = 0 }
                : new JsonObject { ["HoldDays"] = 0, ["OpenLdapDisable"] = "PasswordPolicyLock" },
        };
        return Update(config, layout, source, graphUrl);
    }

    /// <summary>Points <paramref name="config"/> at this lab's servers and secret files; everything else is left as it is.</summary>
    public static JsonObject Update(JsonObject config, LabLayout layout, LabSeed seed, string ldapsUrl, string caFile, string adminDn, Uri graphUrl) =>
        Update(config, layout, new LabSource(ldapsUrl, caFile, adminDn, seed.Suffix, "OpenLdap", "employeeNumber"), graphUrl);

    /// <summary>Points <paramref name="config"/> at <paramref name="lab"/>'s directory and the emulator; everything else is left as it is.</summary>
    public static JsonObject Update(JsonObject config, LabLayout layout, LabSource lab, Uri graphUrl)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(lab);
        var source = config["Source"] as JsonObject ?? [];
        source["Url"] = lab.LdapsUrl;
        source["BindDn"] = lab.AdminDn;
        source.Remove("PasswordEnvVar");
        source["PasswordFile"] = layout.LdapPasswordFile;
        source["BaseDn"] = lab.BaseDn;
        source["Dialect"] = lab.Dialect;
        source["CaFile"] = lab.CaFile;
        config["Source"] = source;

        var target = config["Target"] as JsonObject ?? [];
        target["Kind"] = "Graph";
        target["BaseUrl"] = graphUrl.ToString();
        target["Auth"] = "StaticToken";
        target.Remove("TokenEnvVar");
        target["TokenFile"] = layout.GraphTokenFile;
        target["AllowInsecureLoopback"] = true;
        config["Target"] = target;

        var state = config["State"] as JsonObject ?? [];
        state.Remove("BackupKeyEnvVar");
        state["BackupKeyFile"] = layout.BackupKeyFile;
        config["State"] = state;
        return config;
    }
}
