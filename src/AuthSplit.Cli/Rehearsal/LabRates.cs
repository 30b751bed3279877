using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Execution;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Planning.Format;
using Serilog;

namespace AuthSplit.Cli.Rehearsal;

/// <summary>
/// The measured-rates file (<c>lab rates --out</c>, read by <c>plan --rates</c> and Forecast:MeasuredRatesFile):
/// JSON, camelCase. Read with a size cap and every value checked (<see cref="MeasuredRates.Problems"/>), so a file
/// cut short, edited into nonsense or made hostile is refused with exit 2 and never skews a forecast.
/// </summary>
public static class MeasuredRatesFile
{
    private const long MaxBytes = 1 << 20;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static byte[] ToBytes(MeasuredRates rates) => JsonSerializer.SerializeToUtf8Bytes(new RatesJson(rates), Json);

    public static MeasuredRates Read(string path)
    {
        var full = Path.GetFullPath(path);
        FileInfo info;
        try
        {
            info = new FileInfo(full);
            if (!info.Exists)
            {
                throw new InputException("rates", Directory.Exists(full) ? "is a directory; name the rates file authsplit lab rates --out wrote" : "does not exist (write it with: authsplit lab rates --dir LAB --out FILE)", full);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("rates", $"cannot be read: {ex.Message}", full);
        }

        if (info.Length > MaxBytes)
        {
            throw new InputException("rates", $"is {info.Length:N0} bytes; a rates file is at most {MaxBytes:N0}: this is not one", full);
        }

        MeasuredRates? rates;
        try
        {
            rates = JsonSerializer.Deserialize<RatesJson>(File.ReadAllBytes(full), Json)?.ToRates();
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            var reason = ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
            throw new InputException("rates", $"is not a rates file authsplit lab rates wrote: {reason}", full);
        }

        if (rates is null)
        {
            throw new InputException("rates", "is empty (null): not a rates file", full);
        }

        var problems = rates.Problems();
        return problems.Count == 0
            ? rates
            : throw new InputException("rates", $"cannot be used for the deadline forecast: {string.Join("; ", problems)}", full);
    }

    // The file's shape: what MeasuredRates holds, the derived rates written beside for the reader (ignored when read back).
    private sealed class RatesJson
    {
        public RatesJson()
        {
        }

        public RatesJson(MeasuredRates rates)
        {
            Kind = rates.Kind;
            Version = rates.Version;
            MeasuredAt = rates.MeasuredAt;
            Source = rates.Source;
            Dialect = rates.Dialect;
            Entities = rates.Entities;
            LdapOperationsPerSecond = Math.Round(rates.LdapOperationsPerSecond, 3);
            GraphWritesPerSecond = Math.Round(rates.GraphWritesPerSecond, 3);
            Waves = [.. rates.Waves.Select(w => new WaveJson
            {
                Wave = w.Wave, StartedAt = w.StartedAt, CompletedAt = w.CompletedAt, Entities = w.Entities, LdapOperations = w.LdapOperations, GraphWrites = w.GraphWrites,
                Seconds = Math.Round(w.Seconds, 3), LdapOperationsPerSecond = Math.Round(w.LdapOperationsPerSecond, 3), GraphWritesPerSecond = Math.Round(w.GraphWritesPerSecond, 3),
            })];
        }

        public string? Kind { get; set; }

        public int Version { get; set; }

        public DateTimeOffset MeasuredAt { get; set; }

        public string? Source { get; set; }

        public string? Dialect { get; set; }

        public int? Entities { get; set; }

        public double? LdapOperationsPerSecond { get; set; }

        public double? GraphWritesPerSecond { get; set; }

        public List<WaveJson>? Waves { get; set; }

        public MeasuredRates ToRates() => new()
        {
            Kind = Kind ?? "",
            Version = Version,
            MeasuredAt = MeasuredAt,
            Source = Source ?? "",
            Dialect = Dialect ?? "",
            Waves = [.. (Waves ?? []).Select(w => w is null ? null! : new MeasuredWave
            {
                Wave = w.Wave ?? "", StartedAt = w.StartedAt, CompletedAt = w.CompletedAt, Entities = w.Entities, LdapOperations = w.LdapOperations, GraphWrites = w.GraphWrites,
            })],
        };
    }

    private sealed class WaveJson
    {
        public string? Wave { get; set; }

        public DateTimeOffset StartedAt { get; set; }

        public DateTimeOffset CompletedAt { get; set; }

        public int Entities { get; set; }

        public long LdapOperations { get; set; }

        public long GraphWrites { get; set; }

        public double? Seconds { get; set; }

        public double? LdapOperationsPerSecond { get; set; }

        public double? GraphWritesPerSecond { get; set; }
    }
}

/// <summary>
/// <c>authsplit lab rates</c>: the rates a rehearsal measured, from the journal of the lab's state store (or any
/// config's): each completed wave's start and completion, and the work the forecast counts for it.
/// </summary>
public sealed class LabRates(CliConsole console, ILogger log)
{
    public async Task<int> RunAsync(string? labDirectory, string? configPath, string output, CancellationToken cancellationToken)
    {
        if ((labDirectory is null) == (configPath is null))
        {
            throw new InputException("lab-rates", "name the rehearsal with exactly one of --dir (a lab's directory) or --config (any rehearsal's config)");
        }

        var config = configPath ?? new LabLayout(Path.GetFullPath(labDirectory!)).Config;
        if (!File.Exists(config))
        {
            throw new InputException("lab-rates", labDirectory is not null ? "holds no authsplit.json: not a lab's directory (start one with authsplit lab start)" : "does not exist", labDirectory is not null ? Path.GetFullPath(labDirectory) : config);
        }

        var options = ConfigLoader.Load(config, requireLiveSource: false, log);
        var runs = new List<(PlanDocument, WaveRun)>();
        var plans = new Dictionary<string, PlanDocument?>(StringComparer.Ordinal);
        await using (var state = await StateComposition.OpenAsync(options, config, cancellationToken))
        {
            foreach (var wave in options.Waves.Select(w => w.Name).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                foreach (var run in await state.Store.GetWaveRunsAsync(wave, cancellationToken))
                {
                    if (run.Status != WaveStatus.Completed)
                    {
                        continue;
                    }

                    if (!plans.TryGetValue(run.PlanId, out var plan))
                    {
                        plan = await state.Store.GetPlanAsync(run.PlanId, cancellationToken) is { } bytes
                            ? PlanSerializer.Deserialize(bytes, "the state store's copy of plan " + run.PlanId)
                            : null;
                        plans[run.PlanId] = plan;
                    }

                    if (plan is not null)
                    {
                        runs.Add((plan, run));
                    }
                }
            }
        }

        var where = labDirectory is not null ? $"lab {Path.GetFullPath(labDirectory)}" : $"config {Path.GetFullPath(config)}";
        var rates = MeasuredRates.Measure(runs, where)
            ?? throw new InputException("lab-rates", "no wave of this rehearsal has completed yet, so nothing is measured: run a wave to its end first (authsplit run --config … --wave …)", config);

        await OutputFile.WriteAsync(OutputTarget.ForFile("--out", output, [("--config", config)]), async (stream, ct) => await stream.WriteAsync(MeasuredRatesFile.ToBytes(rates), ct), cancellationToken);
        foreach (var wave in rates.Waves)
        {
            await console.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{wave.Wave,-15} {wave.Entities,6:N0} entities in {wave.Seconds,8:0.0} s: {wave.LdapOperations:N0} LDAP operations ({wave.LdapOperationsPerSecond:0.##}/s), {wave.GraphWrites:N0} Graph writes ({wave.GraphWritesPerSecond:0.##}/s)"));
        }

        await console.Output.WriteLineAsync($"wrote {output}: {rates.Describe()}");
        await console.Output.WriteLineAsync($"next: authsplit plan --config YOUR-CONFIG --rates {output} --out plan.json (or set Forecast:MeasuredRatesFile)");
        log.Information("Measured rates of {Waves} waves written to {Path}", rates.Waves.Count, output);
        return ExitCodes.Success;
    }
}
