using AuthSplit.Cli.Planning;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using Serilog;

namespace AuthSplit.Cli.Configuration;

/// <summary>
/// Runs <c>authsplit config check</c>. Validation is the planner's own (<see cref="ConfigLoader"/>): every
/// fault on its own line with its key path, exit 2. A config with <c>Source:Url</c> is checked as for a
/// live read. Secrets are resolved as a plan would resolve them: without <c>--connect</c> a missing one is
/// a warning (the config may be checked where the secrets are not), with it a fault; so are the systems'
/// secrets and the password-sync programs a wave needs (<see cref="HookInputsCheck"/>). <c>--connect</c> then
/// binds to the directory and reads <c>Source:BaseDn</c>, and reads one Graph user; a system that fails is
/// named and the exit code is 4.
/// </summary>
public sealed class ConfigCheck(CliConsole console, ILogger log)
{
    public async Task<int> RunAsync(string path, bool connect, CancellationToken cancellationToken)
    {
        var options = ConfigLoader.Load(path, requireLiveSource: connect);
        var liveSource = connect || !string.IsNullOrWhiteSpace(options.Source.Url);

        // A Url says the config is meant for live reads: check it as a live plan would check it, this time
        // with the log, so the warnings a plan would give (a secret file others can read) are given once.
        options = ConfigLoader.Load(path, requireLiveSource: liveSource, log);

        using var adapters = new AdapterFactory(log);
        var secretFaults = new List<string>();
        if (liveSource)
        {
            Collect(() => AdapterFactory.ResolveSourceCredentials(options.Source), secretFaults);
        }

        if (options.Target is not null)
        {
            Collect(() => adapters.ResolveTargetCredentials(options.Target), secretFaults);
        }

        // What the systems' hooks and the password-sync command need is used by a wave, not by a plan.
        var hookFaults = HookInputsCheck.Check(options).ToList();
        if (connect && secretFaults.Count + hookFaults.Count > 0)
        {
            foreach (var fault in secretFaults.Concat(hookFaults))
            {
                await console.Error.WriteLineAsync($"error: {fault}");
            }

            return ExitCodes.BadInput;
        }

        foreach (var fault in secretFaults)
        {
            await console.Error.WriteLineAsync($"warning: {fault} (a live plan would stop here; --connect treats it as an error)");
        }

        foreach (var fault in hookFaults)
        {
            await console.Error.WriteLineAsync($"warning: {fault} (a wave would stop here; --connect treats it as an error)");
        }

        await WriteSummaryAsync(path, options, liveSource);
        if (!connect)
        {
            return ExitCodes.Success;
        }

        var failures = 0;
        var sourceFailed = await ConnectAsync("source", () => adapters.CheckSourceAsync(options.Source, cancellationToken));
        failures += sourceFailed;
        if (sourceFailed == 0 && options.Source.Dialect == DirectoryDialect.OpenLdap && options.Removal.OpenLdapDisable == OpenLdapDisableMethod.PasswordPolicyLock)
        {
            failures += await PasswordPolicyAsync(adapters, options, cancellationToken);
        }
        if (options.Target is not null)
        {
            failures += await ConnectAsync("target", () => adapters.CheckTargetAsync(options.Target, cancellationToken));
        }

        return failures == 0 ? ExitCodes.Success : ExitCodes.ExternalFailure;
    }

    // The executor's OpenLDAP disable is a ppolicy lock: said now, not when the first account of a wave
    // fails to lock. A warning, not a failure: a server may hide its root DSE from the bind account.
    private async Task<int> PasswordPolicyAsync(AdapterFactory adapters, AuthSplitOptions options, CancellationToken cancellationToken)
    {
        try
        {
            if (await adapters.AnnouncesPasswordPolicyAsync(options.Source, cancellationToken))
            {
                await console.Output.WriteLineAsync("source: announces the password policy control: Removal:OpenLdapDisable PasswordPolicyLock can lock accounts (where the ppolicy overlay is configured on the database)");
                return 0;
            }

            await console.Error.WriteLineAsync(
                $"warning: source: Removal:OpenLdapDisable is PasswordPolicyLock, but {options.Source.Url} does not announce the password policy control ({AdapterFactory.PasswordPolicyControlOid}): "
                + "if the ppolicy overlay is not loaded, a wave's disable step fails (pwdAccountLockedTime is unknown) and nothing is deleted. Load ppolicy on the database, or set Removal:OpenLdapDisable to UnusablePassword");
        }
        catch (ExternalSystemException ex)
        {
            await console.Error.WriteLineAsync($"warning: source: could not read the root DSE's supportedControl: {ex.Message}");
        }

        return 0;
    }

    private static void Collect(Action resolve, List<string> faults)
    {
        try
        {
            resolve();
        }
        catch (InputException ex)
        {
            faults.Add(ex.Message);
        }
    }

    // Each system is tried even when the other failed, so one run names every system that cannot be reached.
    private async Task<int> ConnectAsync(string side, Func<Task<string>> check)
    {
        try
        {
            var reached = await check();
            await console.Output.WriteLineAsync($"{side} reachable: {reached}");
            return 0;
        }
        catch (ExternalSystemException ex)
        {
            log.Debug(ex, "Config check: {Side} failed ({System})", side, ex.System);
            await console.Error.WriteLineAsync($"error: {side}: {ex.Message}");
            return 1;
        }
    }

    private async Task WriteSummaryAsync(string path, AuthSplitOptions options, bool liveSource)
    {
        var source = options.Source;
        var output = console.Output;
        await output.WriteLineAsync($"config OK: {path}");
        await output.WriteLineAsync(liveSource
            ? $"  source: {source.Url} ({source.Dialect}), base {source.BaseDn}, bind {(string.IsNullOrWhiteSpace(source.BindDn) ? "anonymous" : source.BindDn)}{SecretOrigin(source.PasswordEnvVar, source.PasswordFile)}"
            : $"  source: no Source:Url, offline only (plan with --source-ldif), base {source.BaseDn}");
        var waves = options.Waves.OrderBy(w => w.Order).Select(w => $"{w.Name} (order {w.Order}, deadline {w.Deadline})");
        await output.WriteLineAsync($"  waves:  {options.Waves.Count}: {string.Join(", ", waves)}");
        var target = options.Target;
        await output.WriteLineAsync(target is null
            ? "  target: none configured (plan with --target-snapshot)"
            : $"  target: {target.Kind} at {target.BaseUrl ?? "https://graph.microsoft.com/"}, auth {target.Auth}{(string.IsNullOrWhiteSpace(target.TenantId) ? string.Empty : $", tenant {target.TenantId}")}");
    }

    private static string SecretOrigin(string? variable, string? file) =>
        !string.IsNullOrWhiteSpace(variable) ? $", password from ${variable}"
        : !string.IsNullOrWhiteSpace(file) ? $", password from {file}"
        : string.Empty;
}
