using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Hooks.Http;
using AuthSplit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthSplit.Hooks.Tests;

public sealed class HooksRegistrationTests
{
    [Fact]
    public async Task AddSystemHooks_gives_one_runner_and_one_caller_that_mask_every_credential_the_config_names()
    {
        var sourceVariable = "AUTHSPLIT_TEST_SOURCE_PW_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var sourcePassword = "source-pw-" + Guid.NewGuid().ToString("N");
        var probeFile = Path.Combine(TestPaths.NewWorkDirectory(), "probe.pw");
        var probePassword = "probe-pw-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(probeFile, probePassword);
        var options = new AuthSplitOptions
        {
            Source = new SourceOptions { PasswordEnvVar = sourceVariable },
            Systems = { new SystemOptions { Id = "crm", Probes = { new ProbeOptions { Kind = ProbeKind.LdapBind, CredentialFile = probeFile } } } },
        };
        Environment.SetEnvironmentVariable(sourceVariable, sourcePassword);
        try
        {
            var provider = new ServiceCollection().AddSystemHooks(options).BuildServiceProvider();
            var runner = provider.GetRequiredService<ICommandRunner>();
            var caller = provider.GetRequiredService<IHttpCaller>();

            // A hook inherits AuthSplit's environment: echoing the legacy bind password must not journal it.
            var outcome = await runner.RunAsync(["/bin/sh", "-c", $"printf '%s %s' \"${sourceVariable}\" \"$(cat '{probeFile}')\""], new Dictionary<string, string>(), null, TimeSpan.FromMinutes(1), CancellationToken.None);

            provider.GetRequiredService<ICommandRunner>().Should().BeSameAs(runner);
            provider.GetRequiredService<IHttpCaller>().Should().BeSameAs(caller).And.BeOfType<HttpHookCaller>();
            outcome.Status.Should().Be(HookStatus.Succeeded);
            outcome.OutputExcerpt.Should().Be("*** ***");
            await provider.DisposeAsync();
        }
        finally
        {
            Environment.SetEnvironmentVariable(sourceVariable, null);
        }
    }
}
