using System.Diagnostics;
using System.Globalization;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.State.Tests.Support;
using AuthSplit.Testing;
using Xunit.Abstractions;

namespace AuthSplit.State.Tests.Sqlite;

/// <summary>
/// What synchronous=FULL costs: RecordStepAsync per second, one writer, FULL against NORMAL on the same
/// disk. Prints the figures (run with <c>--filter Category=Benchmark --logger "console;verbosity=detailed"</c>);
/// docs/benchmarks.md keeps the measured ones.
/// </summary>
public sealed class SqliteDurabilityBenchmarkTests(ITestOutputHelper output)
{
    private const int Steps = 400;

    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Recording_steps_with_synchronous_full_and_normal_is_measured()
    {
        var full = await MeasureAsync(SqliteSynchronous.Full, writers: 1);
        var normal = await MeasureAsync(SqliteSynchronous.Normal, writers: 1);
        var fullConcurrent = await MeasureAsync(SqliteSynchronous.Full, writers: 8);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RecordStepAsync, {Steps} steps, one writer: synchronous=FULL {full:0} steps/s, NORMAL {normal:0} steps/s (FULL costs {(1 - (full / normal)) * 100:0}%)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RecordStepAsync, {Steps} steps, 8 concurrent writers: synchronous=FULL {fullConcurrent:0} steps/s"));
        full.Should().BePositive();
        normal.Should().BePositive();
        fullConcurrent.Should().BePositive();
    }

    private static async Task<double> MeasureAsync(SqliteSynchronous synchronous, int writers)
    {
        var directory = TestPaths.NewWorkDirectory();
        await using var store = await ExecutionStoreFactory.OpenStoreAsync(new StateOptions { Provider = StateProvider.Sqlite }, directory, TimeProvider.System,
            new ExecutionStoreSettings { Synchronous = synchronous }, CancellationToken.None);
        var plan = Some.PlanId();

        // Warm-up: the pool's connection, the statements' first compile.
        for (var i = 0; i < 20; i++)
        {
            await store.RecordStepAsync(Some.Step(plan, "warm", $"w{i}", StepAction.VerifyTargetAccount), Some.Entity(plan, "warm", $"w{i}", EntityState.InProgress, 1), CancellationToken.None);
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < Steps; i += writers)
            {
                var entity = $"e{i}";
                await store.RecordStepAsync(Some.Step(plan, "wave-1", entity, StepAction.DeleteLegacyEntry), Some.Entity(plan, "wave-1", entity, EntityState.Done, 1, StepAction.DeleteLegacyEntry), CancellationToken.None);
            }
        })));
        clock.Stop();
        var ledger = await store.ReadLedgerAsync(null, CancellationToken.None).ToListAsync();
        ledger.Should().HaveCount(Steps + 20);
        LedgerChain.Verify(ledger).IsIntact.Should().BeTrue();
        return Steps / clock.Elapsed.TotalSeconds;
    }
}
