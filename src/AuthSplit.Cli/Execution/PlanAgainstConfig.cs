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
    }
}
