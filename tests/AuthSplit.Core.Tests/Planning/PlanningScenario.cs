using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning;

/// <summary>Builds planner inputs in a few readable lines per test.</summary>
internal sealed class PlanningScenario
{
    public const string Base = "dc=example,dc=com";

    private readonly List<DirectoryEntry> _entries = [];
    private readonly List<TargetUser> _targets = [];
    private readonly List<Decision> _decisions = [];
    private readonly List<TargetGroupMembers> _groups = [];
    private readonly List<TargetServicePrincipal> _servicePrincipals = [];
    private readonly List<TargetApplication> _applications = [];
    private bool _inventoryRead;

    public AuthSplitOptions Options { get; } = new()
    {
        Source = new SourceOptions { BaseDn = Base, Dialect = DirectoryDialect.OpenLdap, BindDn = "cn=reader,ou=system," + Base },
        Waves =
        {
            new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq," + Base, Filter = "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames)(objectClass=account))" },
            new WaveOptions { Name = "overseas", Order = 2, Deadline = "2026-04-30", BaseDn = Base, Filter = "(&(objectClass=inetOrgPerson)(c=*)(!(c=JP)))", AllowEmptyScope = true },
        },
        Matching =
        {
            new MatchingRuleOptions { Source = "employeeNumber", Target = "employeeId" },
            new MatchingRuleOptions { Source = "mail", Target = "mail" },
        },
        Safety = new SafetyOptions { ProtectedFilter = "(employeeType=partner)", ProtectedDns = { "ou=system," + Base }, MaxDeletesPerWave = 500 },
    };

    public static string IdFor(string name) => new Guid(global::System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 16)).ToString("D");

    public PlanningScenario Person(string uid, string parent = "ou=hq," + Base, string? mail = null, string? employeeNumber = null, string? country = null, string? employeeType = null, string? id = null, string? description = null)
    {
        var attributes = new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "person", "organizationalPerson", "inetOrgPerson"],
            ["uid"] = [uid],
            ["cn"] = [uid],
            ["sn"] = [uid],
            ["entryUUID"] = [id ?? IdFor(uid)],
        };
        Set(attributes, "mail", mail);
        Set(attributes, "employeeNumber", employeeNumber);
        Set(attributes, "c", country);
        Set(attributes, "employeeType", employeeType);
        Set(attributes, "description", description);
        return Entry($"uid={uid},{parent}", attributes);
    }

    public PlanningScenario Entry(string dn, Dictionary<string, string[]> attributes)
    {
        _entries.Add(DirectoryEntry.FromStrings(dn, attributes));
        return this;
    }

    public PlanningScenario Entry(DirectoryEntry entry)
    {
        _entries.Add(entry);
        return this;
    }

    public PlanningScenario Target(TargetUser user)
    {
        _targets.Add(user);
        return this;
    }

    public PlanningScenario Target(string id, string? mail = null, string? employeeId = null, string? upn = null, bool enabled = true)
    {
        var properties = new Dictionary<string, string?>
        {
            ["userPrincipalName"] = upn ?? mail ?? id + "@example.com",
            ["mail"] = mail,
            ["employeeId"] = employeeId,
            ["accountEnabled"] = enabled ? "true" : "false",
        };
        _targets.Add(new TargetUser(id, properties));
        return this;
    }

    /// <summary>A service (bind) account: objectClass account + simpleSecurityObject, a service account by the OpenLDAP default classification.</summary>
    public PlanningScenario ServiceAccount(string uid, string parent = "ou=services," + Base, string? id = null, params (string Name, string Value)[] extra)
    {
        var attributes = new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "account", "simpleSecurityObject"],
            ["uid"] = [uid],
            ["userPassword"] = ["{SSHA}x"],
            ["entryUUID"] = [id ?? IdFor(uid)],
        };
        foreach (var (name, value) in extra)
        {
            attributes[name] = [value];
        }

        return Entry($"uid={uid},{parent}", attributes);
    }

    /// <summary>A configured system with one legacy account per DN, found in the target by service principal id.</summary>
    public PlanningScenario System(string id, string wave, string servicePrincipalId, params string[] legacyAccountDns)
    {
        var system = new SystemOptions { Id = id, Name = id.ToUpperInvariant(), Wave = wave, Target = new SystemTargetOptions { ServicePrincipalId = servicePrincipalId } };
        foreach (var dn in legacyAccountDns)
        {
            system.LegacyAccounts.Add(new LegacyAccountOptions { Dn = dn });
        }

        return System(system);
    }

    public PlanningScenario System(SystemOptions system)
    {
        Options.Systems.Add(system);
        _inventoryRead = true;
        return this;
    }

    public PlanningScenario ServicePrincipal(string id, string? appId = null, bool? enabled = true, string? name = null)
    {
        _servicePrincipals.Add(new TargetServicePrincipal(id, appId ?? IdFor("app-" + id), name ?? "app " + id, enabled, "Application"));
        _inventoryRead = true;
        return this;
    }

    public PlanningScenario Application(string id, string appId, string name)
    {
        _applications.Add(new TargetApplication(id, appId, name, []));
        _inventoryRead = true;
        return this;
    }

    /// <summary>A cloud group; synchronised from on-premises unless said otherwise, with these target user ids as members.</summary>
    public PlanningScenario Group(string id, string name, bool synchronised, params string[] memberIds)
    {
        _groups.Add(new TargetGroupMembers(new TargetGroup(id, name, true, false, synchronised ? true : null, synchronised ? "S-1-5-21-1-2-3-" + _groups.Count : null), memberIds));
        _inventoryRead = true;
        return this;
    }

    /// <summary>A cloud group exactly as given (its SID, its sync state), with its members' target ids.</summary>
    public PlanningScenario CloudGroup(TargetGroup group, params string[] memberIds)
    {
        _groups.Add(new TargetGroupMembers(group, memberIds));
        _inventoryRead = true;
        return this;
    }

    /// <summary>The target inventory is read (and empty unless groups or apps are added).</summary>
    public PlanningScenario InventoryRead()
    {
        _inventoryRead = true;
        return this;
    }

    public TargetInventory? Inventory => _inventoryRead ? new TargetInventory { Groups = [.. _groups], Applications = [.. _applications], ServicePrincipals = [.. _servicePrincipals] } : null;

    public PlanningScenario Decide(string entityName, DecisionKind kind, string? wave = null, string? targetId = null)
    {
        _decisions.Add(new Decision(IdFor(entityName), kind, wave, targetId, "test reason", "tester@example.com"));
        return this;
    }

    public PlanningScenario Decide(Decision decision)
    {
        _decisions.Add(decision);
        return this;
    }

    public PlanningOutcome Plan(PlanDocument? previous = null, bool acceptScopeDrop = false)
    {
        var errors = AuthSplitOptionsValidator.Validate(Options, requireLiveSource: false);
        errors.Should().BeEmpty("the scenario's config must be valid");
        var planner = new Planner(PlanningSettings.From(Options), _targets, _decisions, Inventory);
        foreach (var entry in _entries)
        {
            planner.Add(entry);
        }

        var inputs = new PlanInputs
        {
            Source = new InputDescription { Kind = "ldif", Location = "test.ldif", Sha256 = "sha256:source", Count = _entries.Count },
            Target = new InputDescription { Kind = "graph-snapshot", Location = "target", Sha256 = "sha256:target", Count = _targets.Count },
            ConfigSha256 = "sha256:config",
        };
        return planner.Complete(inputs, previous, acceptScopeDrop);
    }

    public PlanDocument PlanAccepted()
    {
        var outcome = Plan();
        outcome.Refusals.Should().BeEmpty();
        return outcome.Plan;
    }

    private static void Set(Dictionary<string, string[]> attributes, string name, string? value)
    {
        if (value is not null)
        {
            attributes[name] = [value];
        }
    }
}

internal static class PlanDocumentExtensions
{
    public static PlannedEntity Entity(this PlanDocument plan, string name) =>
        plan.Entities.Single(e => e.Id == PlanningScenario.IdFor(name));

    public static StepAction[] Actions(this PlannedEntity entity) => [.. entity.Steps.Select(s => s.Action)];

    public static PlannedSystem System(this PlanDocument plan, string id) => plan.Systems!.Single(s => s.Id == id);

    public static StepAction[] Actions(this PlannedSystem system) => [.. system.Steps.Select(s => s.Action)];

    public static SystemBlockerCode[] BlockerCodes(this PlannedSystem system) => [.. system.Blockers.Select(b => b.Code)];
}
