using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Testing.Execution;

/// <summary>
/// The system steps' outside world for unit tests: each call is recorded, and answered by a rule the
/// test sets (by default: success). The bind probe answers from the in-memory directory: refused when the
/// account reads back disabled, as a real server does.
/// </summary>
public sealed class FakeSystemPorts : ICommandRunner, IHttpCaller, ILdapBindProbe
{
    private readonly List<string> _calls = [];
    private readonly Func<string, bool>? _accountDisabled;

    public FakeSystemPorts(Func<string, bool>? accountDisabled = null) => _accountDisabled = accountDisabled;

    public SystemPorts Ports => new(this, this, this);

    /// <summary>Every call, in order: <c>command prog</c>, <c>http METHOD URL</c>, <c>bind DN</c>.</summary>
    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>How a command answers, by its program; Succeeded when absent.</summary>
    public Dictionary<string, HookStatus> CommandAnswers { get; } = new(StringComparer.Ordinal);

    /// <summary>A program that does something (a password-sync hook and its read-back): its environment and stdin in, its outcome out.</summary>
    public Dictionary<string, Func<IReadOnlyDictionary<string, string>, string?, HookOutcome>> CommandHandlers { get; } = new(StringComparer.Ordinal);

    /// <summary>The standard input each command got, in order (a password-sync hook gets its batch's ids there).</summary>
    public List<(string Program, string? Input)> Inputs { get; } = [];

    /// <summary>An outcome for a <see cref="CommandHandlers"/> entry: <paramref name="stdout"/> printed, exit <paramref name="exitCode"/>.</summary>
    public static HookOutcome Printed(string stdout, int exitCode = 0) => Outcome(exitCode == 0 ? HookStatus.Succeeded : HookStatus.Refused, "hook") with { ExitCode = exitCode, StandardOutput = stdout, OutputExcerpt = stdout, Detail = $"hook exited {exitCode}" };

    /// <summary>How an HTTP call answers, by its URL; Succeeded when absent.</summary>
    public Dictionary<string, HookStatus> HttpAnswers { get; } = new(StringComparer.Ordinal);

    /// <summary>Binds that succeed whatever the directory says (a server that ignores the disable).</summary>
    public HashSet<string> BindsAlwaysAccepted { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Task<HookOutcome> RunAsync(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? standardInput, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Record("command " + command[0]);
        lock (_calls)
        {
            Inputs.Add((command[0], standardInput));
        }

        if (CommandHandlers.TryGetValue(command[0], out var handler))
        {
            return Task.FromResult(handler(environment, standardInput));
        }

        var status = CommandAnswers.GetValueOrDefault(command[0], HookStatus.Succeeded);
        return Task.FromResult(Outcome(status, $"{command[0]} for {environment.GetValueOrDefault("AUTHSPLIT_SYSTEM_ID")}") with { ExitCode = status == HookStatus.Succeeded ? 0 : status == HookStatus.Refused ? 3 : null });
    }

    public Task<HookOutcome> CallAsync(HttpCallSpec call, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Record($"http {call.Method} {call.Url}");
        var status = HttpAnswers.GetValueOrDefault(call.Url, HookStatus.Succeeded);
        return Task.FromResult(Outcome(status, $"{call.Method} {call.Url}") with { HttpStatus = status == HookStatus.Succeeded ? 200 : status == HookStatus.Refused ? 500 : null });
    }

    public Task<HookOutcome> BindAsync(string? url, string bindDn, string credentialSource, string? caFile, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Record("bind " + bindDn);
        var refused = !BindsAlwaysAccepted.Contains(bindDn) && (_accountDisabled?.Invoke(bindDn) ?? false);
        return Task.FromResult(Outcome(refused ? HookStatus.Refused : HookStatus.Succeeded, "bind as " + bindDn) with { LdapResultCode = refused ? 49 : 0 });
    }

    private void Record(string call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }
    }

    private static HookOutcome Outcome(HookStatus status, string what) => new()
    {
        Status = status,
        Duration = TimeSpan.FromMilliseconds(12),
        OutputSha256 = "sha256:" + new string('a', 64),
        OutputExcerpt = $"{what}: {status}",
        Detail = $"{what} ended {status}",
    };
}
