using System.Diagnostics;
using AuthSplit.Cli.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Snapshots;
using AuthSplit.Ldap.Ldif;

namespace AuthSplit.Benchmarks;

/// <summary>Times each phase of an offline plan in-process, to find where the time goes.</summary>
public static class PlanPhases
{
    public static async Task RunAsync(int people)
    {
        var work = Path.Combine(Path.GetTempPath(), $"authsplit-bench-{people}");
        var clock = Stopwatch.StartNew();
        var users = new List<TargetUser>();
        await foreach (var user in new GraphUserSnapshot(Path.Combine(work, "target")).ReadUsersAsync(CancellationToken.None))
        {
            users.Add(user);
        }

        Console.WriteLine($"target read: {clock.Elapsed.TotalSeconds:0.00} s ({users.Count:N0})");
        clock.Restart();
        var count = 0;
        await foreach (var entry in new LdifFileSource(Path.Combine(work, "source.ldif")).ReadEntriesAsync(CancellationToken.None))
        {
            count += entry.Attributes.Count > 0 ? 1 : 0;
        }

        Console.WriteLine($"ldif read only: {clock.Elapsed.TotalSeconds:0.00} s ({count:N0})");
        var options = ConfigLoader.Load(Path.Combine(work, "config.json"), requireLiveSource: false);
        clock.Restart();
        var planner = new Planner(PlanningSettings.From(options), users, []);
        Console.WriteLine($"planner setup (target index): {clock.Elapsed.TotalSeconds:0.00} s");
        clock.Restart();
        await foreach (var entry in new LdifFileSource(Path.Combine(work, "source.ldif")).ReadEntriesAsync(CancellationToken.None))
        {
            planner.Add(entry);
        }

        Console.WriteLine($"ldif read + planner.Add: {clock.Elapsed.TotalSeconds:0.00} s (GC paused {GC.GetTotalPauseDuration().TotalSeconds:0.00} s so far, gen2 {GC.CollectionCount(2)})");
        clock.Restart();
        var inputs = new PlanInputs
        {
            Source = new() { Kind = "ldif", Location = "x", Sha256 = "sha256:x", Count = count },
            Target = new() { Kind = "graph-snapshot", Location = "x", Sha256 = "sha256:x", Count = users.Count },
            ConfigSha256 = "sha256:x",
        };
        var outcome = planner.Complete(inputs, null, false);
        Console.WriteLine($"complete (incl. plan id): {clock.Elapsed.TotalSeconds:0.00} s");
        clock.Restart();
        var bytes = PlanSerializer.Serialize(outcome.Plan);
        Console.WriteLine($"serialize: {clock.Elapsed.TotalSeconds:0.00} s ({bytes.Length / 1e6:0.0} MB)");
        Console.WriteLine($"GC: paused {GC.GetTotalPauseDuration().TotalSeconds:0.00} s; collections gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}; heap after full GC {GC.GetTotalMemory(true) / 1048576} MiB");
        Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MiB");
    }
}
