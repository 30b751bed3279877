using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Execution;
using AuthSplit.Cli.Logging;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;
using Serilog;

namespace AuthSplit.Cli;

/// <summary>
/// The one place where exceptions become exit codes and one-line messages: bad input 2, outside
/// system 4, interrupted 130 (SIGINT) or 143 (SIGTERM), anything else is a defect (1) whose stack trace
/// goes to the log file (or, when there is no log file, to stderr). Every error line printed here goes
/// to the JSON log too.
/// </summary>
public static class CommandExecution
{
    /// <param name="describeKept">When the run is interrupted: what the operator finds on disk (e.g. "no plan was written; X is unchanged").</param>
    public static async Task<int> RunAsync(
        CliConsole console, string? logDirectory, bool verbose, Func<ILogger, CancellationToken, Task<int>> action, CancellationToken cancellationToken, Func<string>? describeKept = null)
    {
        await using var cliLog = LoggingSetup.Create(console.Error, logDirectory, verbose);
        var log = cliLog.Logger;
        var shown = log.FileOnly();
        try
        {
            return await action(log, cancellationToken);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested)
        {
            // Whatever failed after the signal failed because of it (a read or write cut short).
            var signal = console.Interruption?.Signal?.ToString() ?? "cancellation";
            var kept = describeKept?.Invoke() ?? "nothing was written";
            shown.Warning(ex, "Interrupted by {Signal}: {Kept}", signal, kept);
            await console.Error.WriteLineAsync($"interrupted ({signal}): {kept}.");
            return console.Interruption?.ExitCode ?? ExitCodes.Cancelled;
        }
        catch (ConfigInvalidException ex)
        {
            foreach (var error in ex.Errors)
            {
                shown.Error("Configuration error in {Origin}: {Key}: {Message}", error.Origin ?? ex.Path, error.Key, error.Message);
                await console.Error.WriteLineAsync($"error: {error.Origin ?? ex.Path}: {error.Key}: {error.Message}");
            }

            return ExitCodes.BadInput;
        }
        catch (ExecutionRefusedException ex)
        {
            shown.Error("Refused to execute: {Code}: {Message}", ex.Refusal.Code, ex.Message);
            await console.Error.WriteLineAsync($"refused: {WireName.Of(ex.Refusal.Code)}: {ex.Message}");
            return ExecutionRefusedException.ExitCodeOf(ex.Refusal.Code);
        }
        catch (InputException ex)
        {
            shown.Error(ex, "Bad input {Code}: {Message}", ex.Code, ex.Message);
            await console.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.BadInput;
        }
        catch (ExternalSystemException ex)
        {
            shown.Error(ex, "External system failed: {System}: {Message}", ex.System, ex.Message);
            await console.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.ExternalFailure;
        }
        catch (Exception ex)
        {
            shown.Fatal(ex, "Unexpected failure");
            if (cliLog.FileDirectory is { } directory)
            {
                await console.Error.WriteLineAsync($"internal error: {ex.GetType().Name}: {ex.Message} (this is a defect in AuthSplit; the log file in {directory} has the details)");
            }
            else
            {
                await console.Error.WriteLineAsync($"internal error: {ex.GetType().Name}: {ex.Message} (this is a defect in AuthSplit; there is no log file, so the details follow)");
                await console.Error.WriteLineAsync(ex.ToString());
            }

            return ExitCodes.InternalError;
        }
    }
}
