using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// An approved plan runs against the directory the config names: the plan's base DN and dialect must be
/// the config's, or its DNs and preconditions mean nothing there.
/// </summary>
public static class PlanAgainstConfig
{
    public static void Check(PlanDocument plan, AuthSplitOptions options, string planPath)
    {
        var dialect = options.Source.Dialect.ToString();
        if (!string.Equals(plan.Settings.Dialect, dialect, StringComparison.OrdinalIgnoreCase))
        {
            throw new InputException("plan-config-mismatch", $"the plan was made for a {plan.Settings.Dialect} directory, the config's Source:Dialect is {dialect}: use the config the plan was made with", planPath);
        }

        if (options.Source.BaseDn is { } baseDn
            && DistinguishedName.TryParse(baseDn, out var configured, out _)
            && DistinguishedName.TryParse(plan.Settings.BaseDn, out var planned, out _)
            && !string.Equals(configured.Normalized, planned.Normalized, StringComparison.Ordinal))
        {
            throw new InputException("plan-config-mismatch", $"the plan was made under base DN \"{PrintableText.Escape(plan.Settings.BaseDn)}\", the config's Source:BaseDn is \"{PrintableText.Escape(baseDn)}\": use the config the plan was made with", planPath);
        }

        CheckProtection(plan.Settings.Safety, options.Safety, planPath);
    }

    /// <summary>
    /// The executor re-checks protection on the live entry with the rules the plan carries, so a plan (even
    /// re-hashed and approved) must not carry weaker ones than the config states: the same
    /// Safety:ProtectedFilter, and every Safety:ProtectedDns entry of the config.
    /// </summary>
    private static void CheckProtection(SafetySettings planned, SafetyOptions configured, string planPath)
    {
        var filter = string.IsNullOrWhiteSpace(configured.ProtectedFilter) ? null : configured.ProtectedFilter.Trim();
        if (!string.Equals(planned.ProtectedFilter, filter, StringComparison.Ordinal))
        {
            throw new InputException("plan-config-mismatch", $"the plan carries Safety:ProtectedFilter {Describe(planned.ProtectedFilter)}, the config {Describe(filter)}: the run-time rails apply the plan's, so it must be the config's; plan again with this config", planPath);
        }

        var plannedDns = planned.ProtectedDns.Select(dn => DistinguishedName.TryParse(dn, out var parsed, out _) ? parsed.Normalized : dn).ToHashSet(StringComparer.Ordinal);
        var missing = configured.ProtectedDns.Where(dn => !plannedDns.Contains(DistinguishedName.TryParse(dn, out var parsed, out _) ? parsed.Normalized : dn)).ToList();
        if (missing.Count > 0)
        {
            throw new InputException("plan-config-mismatch", $"the plan does not protect Safety:ProtectedDns {string.Join("; ", missing.Select(dn => "\"" + PrintableText.Escape(dn) + "\""))} of the config: the run-time rails apply the plan's; plan again with this config", planPath);
        }
    }

    private static string Describe(string? filter) => filter is null ? "(none)" : "\"" + PrintableText.Escape(filter) + "\"";
}
