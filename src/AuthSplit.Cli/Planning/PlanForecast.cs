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
    /// <summary>
    /// At the config's Target:Limits and Execution:ForecastLdapOperationsPerSecond, or, when Forecast:MeasuredRatesFile
    /// (or <c>plan --rates</c>) names a rehearsal's rates, at those (<see cref="MeasuredRates.Apply"/>).
    /// </summary>
    public static PlanForecast Configured(PlanDocument plan, AuthSplitOptions options, DateTimeOffset now) =>
        Configured(plan, options, now, MeasuredFrom(options));

    /// <param name="measured">The rehearsal's rates, already read (<see cref="MeasuredFrom"/>); null for the configured rates.</param>
    public static PlanForecast Configured(PlanDocument plan, AuthSplitOptions options, DateTimeOffset now, MeasuredRates? measured)
    {
        ArgumentNullException.ThrowIfNull(options);
        var rates = ForecastRates.From(options);
        var graph = options.Target is null ? "Graph's documented limit, the default of Target:Limits: no Target is configured" : "Target:Limits";
        if (measured is null)
        {
            return new PlanForecast(
                DeadlineForecast.ForPlan(plan, rates, now),
                rates.Describe(graph, "Execution:ForecastLdapOperationsPerSecond: no rate is measured before a run"));
        }

        return new PlanForecast(
            DeadlineForecast.ForPlan(plan, wave => measured.Apply(rates, wave), now),
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"measured in {measured.Describe()}; Graph writes never faster than {graph} ({rates.GraphWritesPerWindow:N0} per {rates.GraphWriteWindow.TotalSeconds:#,0.##} s); from {options.Forecast.MeasuredRatesFile}"));
    }

    /// <summary>The rehearsal's rates the config names (Forecast:MeasuredRatesFile), read and checked (exit 2 when unusable); null when none.</summary>
    public static MeasuredRates? MeasuredFrom(AuthSplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Forecast.MeasuredRatesFile is { Length: > 0 } path ? Rehearsal.MeasuredRatesFile.Read(path) : null;
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
