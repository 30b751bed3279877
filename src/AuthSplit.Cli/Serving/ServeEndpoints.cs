using System.Text.Json;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Quartz;
using Serilog;

namespace AuthSplit.Cli.Serving;

/// <summary>
/// <c>authsplit serve</c>'s HTTP side (<c>Serve:Http</c>), a small Kestrel app beside the execution host:
/// <c>/healthz/live</c> (the process answers), <c>/healthz/ready</c> (200 when the scheduler is started and
/// both stores answer, 503 with each check's finding when not) and <c>/metrics</c> (the AuthSplit meter
/// through OpenTelemetry, in Prometheus' text format). Started before the scheduler, so a node that cannot
/// start shows as not ready rather than as absent; stopped after it.
/// </summary>
public sealed class ServeEndpoints : IAsyncDisposable
{
    public const string LivePath = "/healthz/live";
    public const string ReadyPath = "/healthz/ready";
    public const string MetricsPath = "/metrics";

    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;

    private ServeEndpoints(WebApplication app, IReadOnlyList<string> addresses)
    {
        _app = app;
        Addresses = addresses;
    }

    /// <summary>Where it listens, as bound (port 0 resolved to the port it got).</summary>
    public IReadOnlyList<string> Addresses { get; }

    /// <summary>Listens on <see cref="ServeHttpOptions.Urls"/> (validated with the config: loopback unless allowed); null when <c>Serve:Http:Enabled</c> is false.</summary>
    public static async Task<ServeEndpoints?> StartAsync(ServeHttpOptions options, IServiceProvider execution, Serilog.ILogger log, CancellationToken cancellationToken)
    {
        if (!options.Enabled)
        {
            return null;
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders().AddSerilog(log, dispose: false);
        // Kestrel's own start-up lines ("Now listening on") would repeat what serve prints; its warnings stay.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.UseKestrelCore().UseUrls([.. ServeHttpAddress.Split(options.Urls)]);
        builder.Services.AddRoutingCore();
        var schedulers = execution.GetRequiredService<ISchedulerFactory>();
        builder.Services.AddHealthChecks()
            .AddCheck("scheduler", ReadinessChecks.SchedulerStarted(schedulers), HealthStatus.Unhealthy, [ReadinessChecks.Tag], CheckTimeout)
            .AddCheck("state-store", ReadinessChecks.StateStoreAnswers(execution.GetRequiredService<IExecutionStore>()), HealthStatus.Unhealthy, [ReadinessChecks.Tag], CheckTimeout)
            .AddCheck("scheduler-store", ReadinessChecks.SchedulerStoreAnswers(schedulers), HealthStatus.Unhealthy, [ReadinessChecks.Tag], CheckTimeout)
            .AddCheck("write-budget", ReadinessChecks.WriteBudgetAgrees(execution.GetService<Execution.WriteBudgetAgreement>() ?? new(null)), HealthStatus.Unhealthy, [ReadinessChecks.Tag], CheckTimeout);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(AuthSplitMetrics.MeterName)
            .AddPrometheusExporter());

        var app = builder.Build();
        app.UseRouting();
        // Liveness runs no check: a process that answers HTTP is alive; a restart cures nothing a database outage causes.
        app.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadinessChecks.Tag), ResponseWriter = WriteAsync });
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        try
        {
            await app.StartAsync(cancellationToken);
            AuthSplitMetrics.ExportZeros();
        }
        catch (IOException ex)
        {
            await app.DisposeAsync();
            throw new InputException("serve-http-bind", $"Serve:Http:Urls ({options.Urls}) could not be bound: {ex.Message.ReplaceLineEndings(" ")}. Another process (another serve on this machine?) has the port: give each node its own, or port 0 for a free one");
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        return new ServeEndpoints(app, addresses);
    }

    // The verdict and each check's finding, so a 503 says why: {"status":"Unhealthy","checks":{"state-store":{"status":"Unhealthy","description":"..."}}}.
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
