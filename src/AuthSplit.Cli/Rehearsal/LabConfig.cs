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
    public static JsonObject Create(LabLayout layout, LabSeed seed, IReadOnlyList<LabUnit> waves, string ldapsUrl, string caFile, string adminDn, Uri graphUrl, DateTimeOffset now)
    {
        var deadline = now.UtcDateTime.Date.AddDays(90).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var config = new JsonObject
        {
            ["Waves"] = new JsonArray([.. waves.Select((unit, index) => (JsonNode)new JsonObject
            {
                ["Name"] = unit.Name,
                ["Order"] = index + 1,
                ["Deadline"] = deadline,
                ["BaseDn"] = unit.Dn,
                ["Filter"] = "(objectClass=inetOrgPerson)",
            })]),
            ["Matching"] = new JsonArray(
                new JsonObject { ["Source"] = "employeeNumber", ["Target"] = "employeeId" },
                new JsonObject { ["Source"] = "mail", ["Target"] = "mail" }),
            ["Safety"] = new JsonObject { ["MaxDeletesPerWave"] = Math.Max(1, seed.Entries) },
            ["Removal"] = new JsonObject { ["HoldDays"] = 0, ["OpenLdapDisable"] = "PasswordPolicyLock" },
        };
        return Update(config, layout, seed, ldapsUrl, caFile, adminDn, graphUrl);
    }

    /// <summary>Points <paramref name="config"/> at this lab's servers and secret files; everything else is left as it is.</summary>
    public static JsonObject Update(JsonObject config, LabLayout layout, LabSeed seed, string ldapsUrl, string caFile, string adminDn, Uri graphUrl)
    {
        var source = config["Source"] as JsonObject ?? [];
        source["Url"] = ldapsUrl;
        source["BindDn"] = adminDn;
        source.Remove("PasswordEnvVar");
        source["PasswordFile"] = layout.LdapPasswordFile;
        source["BaseDn"] = seed.Suffix;
        source["Dialect"] = "OpenLdap";
        source["CaFile"] = caFile;
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
