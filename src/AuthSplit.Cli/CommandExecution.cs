using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Logging;
using AuthSplit.Core.Errors;
using Serilog;

namespace AuthSplit.Cli;

/// <summary>
/// The one place where exceptions become exit codes and one-line messages: bad input 2, outside
/// system 4, cancelled 130, anything else is a defect (1) whose stack trace goes to the log file only.
/// </summary>
public static class CommandExecution
{
    public static async Task<int> RunAsync(CliConsole console, string? logDirectory, bool verbose, Func<ILogger, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        var log = LoggingSetup.Create(console.Error, logDirectory, verbose);
        try
        {
            return await action(log, cancellationToken);
        }
        catch (ConfigInvalidException ex)
        {
            foreach (var error in ex.Errors)
            {
                await console.Error.WriteLineAsync($"error: {ex.Path}: {error.Key}: {error.Message}");
            }

            return ExitCodes.BadInput;
        }
        catch (InputException ex)
        {
            log.Debug(ex, "Bad input {Code}", ex.Code);
            await console.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.BadInput;
        }
        catch (ExternalSystemException ex)
        {
            log.Debug(ex, "External system failed: {System}", ex.System);
            await console.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.ExternalFailure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await console.Error.WriteLineAsync("cancelled: nothing was written.");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex)
        {
            log.Fatal(ex, "Unexpected failure");
            await console.Error.WriteLineAsync($"internal error: {ex.GetType().Name}: {ex.Message} (this is a defect in AuthSplit; the log file has the details)");
            return ExitCodes.InternalError;
        }
        finally
        {
            await ((IAsyncDisposable)log).DisposeAsync();
        }
    }
}
