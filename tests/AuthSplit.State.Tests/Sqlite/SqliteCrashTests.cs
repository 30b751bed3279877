using System.Diagnostics;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Execution;
using AuthSplit.State.Tests.Support;
using AuthSplit.Testing;
using Xunit.Abstractions;

namespace AuthSplit.State.Tests.Sqlite;

/// <summary>
/// A process recording steps is SIGKILLed at random moments; every step it reported done is there when
/// the store is opened again, and the ledger is one intact chain. (A power cut is what synchronous=FULL is
/// for; a SIGKILL proves the transaction boundaries and that nothing is reported before its commit.)
/// </summary>
public sealed class SqliteCrashTests(ITestOutputHelper output)
{
    private const int Kills = 4;

    [Fact]
    [Trait("Speed", "Slow")]
    public async Task Every_step_a_killed_process_reported_done_is_there_after_reopening_and_the_chain_is_intact()
    {
        var directory = TestPaths.NewWorkDirectory();
        var random = new Random(20261201);
        var reported = new List<string>();

        for (var round = 0; round < Kills; round++)
        {
            var killAfter = random.Next(5, 150);
            var done = await RunChildUntilKilledAsync(directory, $"r{round}-", killAfter);
            output.WriteLine($"round {round}: killed after {done.Count} reported steps (aimed at {killAfter})");
            done.Count.Should().BeGreaterThanOrEqualTo(killAfter);
            reported.AddRange(done);

            await using var store = await ExecutionStoreFactory.OpenStoreAsync(new StateOptions { Provider = StateProvider.Sqlite }, directory, TimeProvider.System, new ExecutionStoreSettings(), CancellationToken.None);
            var ledger = await store.ReadLedgerAsync(null, CancellationToken.None).ToListAsync();
            LedgerChain.Verify(ledger).Should().BeEquivalentTo(new { IsIntact = true, IntactRecords = (long)ledger.Count });
            var recorded = ledger.Where(r => r.Kind == LedgerKind.Step).Select(r => r.EntityId!).ToHashSet(StringComparer.Ordinal);
            recorded.Should().Contain(reported, "a step reported done was committed first");
            foreach (var entity in done)
            {
                (await store.GetEntityAsync(Some.PlanId(), entity, CancellationToken.None))!.State.Should().Be(EntityState.Done);
                (await store.GetStepsAsync(Some.PlanId(), entity, CancellationToken.None)).Should().ContainSingle();
            }

            // At most the one step in flight at the kill may be there without having been reported.
            recorded.Count.Should().BeLessThanOrEqualTo(reported.Count + round + 1);
        }
    }

    private static async Task<List<string>> RunChildUntilKilledAsync(string directory, string prefix, int killAfter)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(CrashChild.Program).Assembly.Location, "crash-child", directory, prefix },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var child = Process.Start(start)!;
        var done = new List<string>();
        try
        {
            string? line;
            while ((line = await child.StandardOutput.ReadLineAsync()) is not null)
            {
                if (line.StartsWith("done ", StringComparison.Ordinal))
                {
                    done.Add(line[5..]);
                    if (done.Count == killAfter)
                    {
                        child.Kill();
                    }
                }
            }

            await child.WaitForExitAsync();
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }

        if (done.Count < killAfter)
        {
            throw new InvalidOperationException($"the child stopped by itself after {done.Count} steps: {await child.StandardError.ReadToEndAsync()}");
        }

        return done;
    }
}
