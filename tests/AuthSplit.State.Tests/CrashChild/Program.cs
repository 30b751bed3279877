using System.Globalization;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.State.Tests.Support;

namespace AuthSplit.State.Tests.CrashChild;

/// <summary>
/// The crash test's child: <c>dotnet AuthSplit.State.Tests.dll crash-child DB-DIR PREFIX</c> records steps
/// until it is killed, printing <c>done ENTITY</c> after each <see cref="IWaveJournal.RecordStepAsync"/>
/// returns, i.e. once the step is reported durable. The test host never calls this entry point.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 3 || args[0] != "crash-child")
        {
            await Console.Error.WriteLineAsync("usage: crash-child DB-DIRECTORY ENTITY-PREFIX");
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
}
