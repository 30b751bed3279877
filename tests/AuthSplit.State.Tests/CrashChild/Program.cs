using System.Globalization;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.State.Tests.Support;

namespace AuthSplit.State.Tests.CrashChild;

/// <summary>
/// Child processes of the store's tests; the test host never calls this entry point.
/// <c>crash-child DB-DIR PREFIX</c> records steps (SQLite) until it is killed, printing <c>done ENTITY</c>
/// after each <see cref="IWaveJournal.RecordStepAsync"/> returns, i.e. once the step is reported durable.
/// <c>pg-writer VARIABLE PREFIX COUNT</c> records COUNT steps (and a pause every tenth) in the PostgreSQL
/// store whose connection string is in the environment variable VARIABLE, as one node among several, and
/// exits 0: the concurrent-writers test runs several at once.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 4 && args[0] == "pg-writer")
        {
            return await WritePostgresAsync(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
        }

        if (args.Length != 3 || args[0] != "crash-child")
        {
            await Console.Error.WriteLineAsync("usage: crash-child DB-DIRECTORY ENTITY-PREFIX | pg-writer VARIABLE ENTITY-PREFIX COUNT");
            return 2;
        }

        var store = await ExecutionStoreFactory.OpenAsync(new StateOptions { Provider = StateProvider.Sqlite }, args[1], TimeProvider.System, CancellationToken.None);
        var plan = Some.PlanId();
        await Console.Out.WriteLineAsync("ready");
        await Console.Out.FlushAsync();
        for (var i = 0; ; i++)
        {
            var entity = args[2] + i.ToString(CultureInfo.InvariantCulture);
            await store.RecordStepAsync(
                Some.Step(plan, "wave-1", entity, StepAction.DeleteLegacyEntry),
                Some.Entity(plan, "wave-1", entity, EntityState.Done, 1, StepAction.DeleteLegacyEntry),
                CancellationToken.None);
            await Console.Out.WriteLineAsync("done " + entity);
            await Console.Out.FlushAsync();
        }
    }

    private static async Task<int> WritePostgresAsync(string variable, string prefix, int count)
    {
        var options = new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = variable };
        await using var store = await ExecutionStoreFactory.OpenStoreAsync(options, Environment.CurrentDirectory, TimeProvider.System, new ExecutionStoreSettings { Node = prefix }, CancellationToken.None);
        var plan = Some.PlanId();

        // Several writers per process, as the executor has: the group-commit writer batches them, and the batches of all processes interleave.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < count; i += 4)
            {
                var entity = prefix + i.ToString(CultureInfo.InvariantCulture);
                await store.RecordStepAsync(
                    Some.Step(plan, "wave-1", entity, StepAction.VerifyTargetAccount),
                    Some.Entity(plan, "wave-1", entity, EntityState.Done, 1, StepAction.VerifyTargetAccount),
                    CancellationToken.None);
                if (i % 10 == 0)
                {
                    await store.SetPauseAsync(new WavePause(prefix + "wave", i % 20 == 0, prefix, Some.Start), CancellationToken.None);
                }
            }
        })));
        await Console.Out.WriteLineAsync("wrote " + count.ToString(CultureInfo.InvariantCulture));
        return 0;
    }
}
