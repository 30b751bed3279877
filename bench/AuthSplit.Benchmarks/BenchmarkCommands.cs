using BenchmarkDotNet.Running;

namespace AuthSplit.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/AuthSplit.Benchmarks -- &lt;command&gt;</c>:
/// <c>plan-offline [people]</c>, <c>plan-live [people]</c>, <c>serve-live [people]</c> (the live benchmark's slapd, kept running until Enter, for profiling), <c>phases [people]</c>,
/// <c>graph-read [users]</c>, <c>graph-switch [users] [quota] [window-seconds]</c> (default 10,000 users under Graph's 3,000 writes per 150 s: about 8.5 minutes),
/// <c>wave [people] [concurrency] [write-quota] [window-seconds]</c> (default 10,000 people, <c>Execution:Concurrency</c> 32, the emulator's write limit off: plan, approve and run of one wave against slapd and the emulator beside <c>ldapdelete -c</c>; with a quota, the emulator enforces it and the run is compared with what the limit alone dictates),
/// <c>store-steps [steps] [writers]</c> (the state store alone, SQLite and PostgreSQL: StoreBenchmarks),
/// <c>budget-sim [nodes] [writers-per-node] [seconds]</c> (the cluster's shared write budget's granting alone: SharedBudgetBenchmarks), <c>micro</c> (BenchmarkDotNet), <c>all</c> (the plan benchmarks and graph-read).
/// Figures go to stdout; docs/benchmarks.md records what was measured on the reference machine.
/// </summary>
public static class BenchmarkCommands
{
    public static async Task<int> RunAsync(string[] args)
    {
        var command = args.FirstOrDefault() ?? "all";
        var people = Arg(args, 1, 100_000);
        switch (command)
        {
            case "plan-offline":
                await PlanBenchmarks.OfflineAsync(people);
                return 0;
            case "plan-live":
                await PlanBenchmarks.LiveAsync(people);
                return 0;
            case "serve-live":
                await PlanBenchmarks.ServeAsync(people);
                return 0;
            case "phases":
                await PlanPhases.RunAsync(people);
                return 0;
            case "graph-read":
                await GraphBenchmarks.ReadAsync(people);
                return 0;
            case "graph-switch":
                await GraphBenchmarks.SwitchAsync(
                    Arg(args, 1, 10_000),
                    Arg(args, 2, 3000),
                    Arg(args, 3, 150));
                return 0;
            case "wave":
                await WaveBenchmarks.RunAsync(
                    Arg(args, 1, 10_000),
                    Arg(args, 2, 32),
                    Arg(args, 3, 0),
                    Arg(args, 4, 150));
                return 0;
            case "cluster-wave":
                await ClusterWaveBenchmarks.RunAsync(
                    Arg(args, 1, 10_000),
                    Arg(args, 2, 4));
                return 0;
            case "budget-sim":
                await SharedBudgetBenchmarks.RunAsync(
                    Arg(args, 1, 3),
                    Arg(args, 2, 32),
                    Arg(args, 3, 45));
                return 0;
            case "store-steps":
                await StoreBenchmarks.RunAsync(
                    Arg(args, 1, 20_000),
                    Arg(args, 2, 32));
                return 0;
            case "micro":
                BenchmarkSwitcher.FromAssembly(typeof(BenchmarkCommands).Assembly).Run(args.Skip(1).ToArray());
                return 0;
            case "all":
                await PlanBenchmarks.OfflineAsync(people);
                await PlanBenchmarks.LiveAsync(people);
                await GraphBenchmarks.ReadAsync(people);
                return 0;
            default:
                await Console.Error.WriteLineAsync($"unknown benchmark '{command}': use plan-offline, plan-live, serve-live, phases, graph-read, graph-switch, wave, cluster-wave, store-steps, budget-sim, micro or all");
                return 2;
        }
    }

    // The benchmark's argument at `index` (after the command's name), or `fallback` when it is not given.
    private static int Arg(string[] args, int index, int fallback) =>
        args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
