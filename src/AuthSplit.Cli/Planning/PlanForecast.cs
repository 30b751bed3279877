using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// The deadline forecast <c>plan</c> and <c>plan show</c> print beside the plan (never in it: the plan's
/// id is the hash of its bytes, and "deadline in 41 days" changes every day). Before a run nothing is
/// measured, so the rates are the configured ones, and <see cref="Rates"/> says which.
/// </summary>
public sealed record PlanForecast(IReadOnlyList<WaveForecast> Waves, string Rates)
{
    /// <summary>At the config's Target:Limits and Execution:ForecastLdapOperationsPerSecond.</summary>
    public static PlanForecast Configured(PlanDocument plan, AuthSplitOptions options, DateTimeOffset now)
    {
        var rates = ForecastRates.From(options);
        var graph = options.Target is null ? "Graph's documented limit, the default of Target:Limits: no Target is configured" : "Target:Limits";
        return new PlanForecast(
            DeadlineForecast.ForPlan(plan, rates, now),
            rates.Describe(graph, "Execution:ForecastLdapOperationsPerSecond: no rate is measured before a run"));
    }

    /// <summary>Without a config (<c>plan show</c> without <c>--config</c>): the defaults, said to be such.</summary>
    public static PlanForecast Defaults(PlanDocument plan, DateTimeOffset now)
    {
        var rates = ForecastRates.From(new AuthSplitOptions());
        return new PlanForecast(
            DeadlineForecast.ForPlan(plan, rates, now),
            rates.Describe("the default of Target:Limits", "the default of Execution:ForecastLdapOperationsPerSecond") + "; pass --config for your config's rates");
    }

    public WaveForecast? For(string wave) => Waves.FirstOrDefault(w => w.Wave == wave);
}
