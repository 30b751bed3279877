using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

/// <summary>The <c>Systems</c> and <c>PasswordSync</c> sections: every fault with its key path.</summary>
public sealed class SystemOptionsValidationTests
{
    private const string Base = "dc=example,dc=com";
    private static readonly string Principal = Guid.NewGuid().ToString();

    private static AuthSplitOptions With(params SystemOptions[] systems)
    {
        var options = new AuthSplitOptions
        {
            Source = new SourceOptions { BaseDn = Base },
            Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq," + Base, Filter = "(objectClass=inetOrgPerson)" } },
            Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
        };
        foreach (var system in systems)
        {
            options.Systems.Add(system);
        }

        return options;
    }

    private static SystemOptions Crm(Action<SystemOptions>? change = null)
    {
        var system = new SystemOptions
        {
            Id = "crm",
            Name = "CRM",
            Wave = "hq",
            Target = new SystemTargetOptions { ServicePrincipalId = Principal },
            LegacyAccounts = { new LegacyAccountOptions { Dn = "uid=svc-crm,ou=services," + Base, CredentialEnvVar = "CRM_BIND_PASSWORD" } },
        };
        change?.Invoke(system);
        return system;
    }

    private static IEnumerable<string> Keys(AuthSplitOptions options) => AuthSplitOptionsValidator.Validate(options, requireLiveSource: false).Select(e => e.Key);

    private static IEnumerable<string> Keys(params SystemOptions[] systems) => Keys(With(systems));

    [Fact]
    public void A_well_formed_system_passes()
    {
        Keys(Crm(s =>
        {
            s.Cutover = new CutoverOptions { Http = new HttpCallOptions { Url = "https://crm.example.com/idp", Headers = { new HttpHeaderOptions { Name = "Authorization", ValueEnvVar = "CRM_TOKEN" }, new HttpHeaderOptions { Name = "X-Tenant", Value = "example" } } } };
            s.Probes.Add(new ProbeOptions { Name = "sso", Kind = ProbeKind.Http, Http = new HttpCallOptions { Method = "GET", Url = "http://127.0.0.1:8080/health" } });
            s.Probes.Add(new ProbeOptions { Name = "legacy-bind", Kind = ProbeKind.LdapBind, Expect = ProbeExpectation.Failure, Url = "ldaps://ldap.example.com:636", BindDn = "uid=svc-crm,ou=services," + Base, CredentialFile = "crm.pw" });
            s.Probes.Add(new ProbeOptions { Name = "smoke", Kind = ProbeKind.Command, Command = ["/opt/crm/smoke"] });
        })).Should().BeEmpty();
    }

    [Fact]
    public void Ids_must_be_well_formed_and_unique()
    {
        Keys(Crm(s => s.Id = "crm system!"), Crm(s => s.Id = null)).Should().Equal("Systems:0:Id", "Systems:1:Id");
        Keys(Crm(), Crm(s => s.Id = "CRM")).Should().Equal("Systems:1:Id");
    }

    [Fact]
    public void The_wave_must_be_a_configured_one()
    {
        Keys(Crm(s => s.Wave = "overseas"), Crm(s => { s.Id = "erp"; s.Wave = null; })).Should().Equal("Systems:0:Wave", "Systems:1:Wave");
    }

    [Fact]
    public void Legacy_accounts_are_dns_under_the_source_base_listed_once()
    {
        Keys(Crm(s =>
        {
            s.LegacyAccounts.Add(new LegacyAccountOptions { Dn = "not a dn" });
            s.LegacyAccounts.Add(new LegacyAccountOptions { Dn = "uid=svc,dc=other,dc=org" });
            s.LegacyAccounts.Add(new LegacyAccountOptions { Dn = "UID=svc-crm, OU=services, DC=example, DC=com" });
        })).Should().Equal("Systems:0:LegacyAccounts:1:Dn", "Systems:0:LegacyAccounts:2:Dn", "Systems:0:LegacyAccounts:3:Dn");
    }

    [Fact]
    public void A_legacy_accounts_credential_is_named_by_variable_or_file_not_both_and_never_inline()
    {
        Keys(Crm(s => s.LegacyAccounts[0].CredentialFile = "crm.pw")).Should().Equal("Systems:0:LegacyAccounts:0:CredentialEnvVar");
        Keys(Crm(s => s.LegacyAccounts[0].CredentialEnvVar = "s3cret p@ss")).Should().Equal("Systems:0:LegacyAccounts:0:CredentialEnvVar");
        Keys(Crm(s => s.LegacyAccounts[0].CredentialEnvVar = null)).Should().BeEmpty("without a credential the disabled state is read back instead of trying a bind");
    }

    [Fact]
    public void The_target_is_exactly_one_of_service_principal_id_and_app_id_as_a_guid()
    {
        Keys(Crm(s => s.Target = new SystemTargetOptions())).Should().Equal("Systems:0:Target");
        Keys(Crm(s => s.Target = new SystemTargetOptions { ServicePrincipalId = Principal, AppId = Principal })).Should().Equal("Systems:0:Target");
        Keys(Crm(s => s.Target = new SystemTargetOptions { AppId = "crm-app" })).Should().Equal("Systems:0:Target:AppId");
        Keys(Crm(s => s.Target = new SystemTargetOptions { ServicePrincipalId = "sp-1" })).Should().Equal("Systems:0:Target:ServicePrincipalId");
        Keys(Crm(s => s.Target = new SystemTargetOptions { AppId = Guid.NewGuid().ToString() })).Should().BeEmpty();
    }

    [Fact]
    public void A_cutover_is_exactly_one_of_a_command_and_an_http_call_within_its_timeout()
    {
        Keys(Crm(s => s.Cutover = new CutoverOptions())).Should().Equal("Systems:0:Cutover");
        Keys(Crm(s => s.Cutover = new CutoverOptions { Command = ["/bin/switch"], Http = new HttpCallOptions { Url = "https://x.example.com" } })).Should().Equal("Systems:0:Cutover");
        Keys(Crm(s => s.Cutover = new CutoverOptions { Command = [" "], TimeoutSeconds = 0 })).Should().Equal("Systems:0:Cutover:Command:0", "Systems:0:Cutover:TimeoutSeconds");
        Keys(Crm(s => s.Cutover = new CutoverOptions { Command = ["/bin/switch"], TimeoutSeconds = 3601 })).Should().Equal("Systems:0:Cutover:TimeoutSeconds");
    }

    [Theory]
    [InlineData("https://crm.example.com/idp", "POST", null)]
    [InlineData("http://127.0.0.1:9000/idp", "PUT", null)]
    [InlineData("http://[::1]:9000/idp", "PATCH", null)]
    [InlineData("http://crm.example.com/idp", "POST", "Systems:0:Cutover:Http:Url")]
    [InlineData("ftp://crm.example.com/idp", "POST", "Systems:0:Cutover:Http:Url")]
    [InlineData("https://admin:pw@crm.example.com/idp", "POST", "Systems:0:Cutover:Http:Url")]
    [InlineData("/idp", "POST", "Systems:0:Cutover:Http:Url")]
    [InlineData("https://crm.example.com/idp", "post", "Systems:0:Cutover:Http:Method")]
    [InlineData("https://crm.example.com/idp", "CONNECT", "Systems:0:Cutover:Http:Method")]
    public void An_http_call_is_https_or_loopback_http_with_a_known_method(string url, string method, string? faulty)
    {
        var keys = Keys(Crm(s => s.Cutover = new CutoverOptions { Http = new HttpCallOptions { Url = url, Method = method } }));

        keys.Should().Equal(faulty is null ? [] : [faulty]);
    }

    [Fact]
    public void A_header_has_exactly_one_value_source_and_an_authorization_header_never_a_literal_value()
    {
        SystemOptions WithHeaders(params HttpHeaderOptions[] headers) => Crm(s =>
        {
            var http = new HttpCallOptions { Url = "https://crm.example.com/idp" };
            foreach (var header in headers)
            {
                http.Headers.Add(header);
            }

            s.Cutover = new CutoverOptions { Http = http };
        });

        var errors = AuthSplitOptionsValidator.Validate(With(WithHeaders(
            new HttpHeaderOptions { Name = "Authorization", Value = "Bearer eyJhbGciOi-the-token" },
            new HttpHeaderOptions { Name = "X-Api", Value = "a", ValueEnvVar = "B" },
            new HttpHeaderOptions { Name = "X-Empty" },
            new HttpHeaderOptions { Name = "Bad Name", Value = "x" },
            new HttpHeaderOptions { Name = "X-Token", ValueEnvVar = "not a name" },
            new HttpHeaderOptions { Name = "proxy-authorization", Value = "Basic abc" })), requireLiveSource: false);

        errors.Select(e => e.Key).Should().Equal(
            "Systems:0:Cutover:Http:Headers:0:Value",
            "Systems:0:Cutover:Http:Headers:1",
            "Systems:0:Cutover:Http:Headers:2",
            "Systems:0:Cutover:Http:Headers:3:Name",
            "Systems:0:Cutover:Http:Headers:4:ValueEnvVar",
            "Systems:0:Cutover:Http:Headers:5:Value");
        errors.Select(e => e.Message).Should().NotContain(m => m.Contains("eyJhbGciOi", StringComparison.Ordinal), "the error must not echo the secret it found");
    }

    [Fact]
    public void Probes_need_what_their_kind_uses()
    {
        Keys(Crm(s =>
        {
            s.Probes.Add(new ProbeOptions { Name = "bind", Kind = ProbeKind.LdapBind });
            s.Probes.Add(new ProbeOptions { Name = "web", Kind = ProbeKind.Http });
            s.Probes.Add(new ProbeOptions { Name = "cmd", Kind = ProbeKind.Command });
            s.Probes.Add(new ProbeOptions { Name = "bind2", Kind = ProbeKind.LdapBind, Url = "https://ldap.example.com", BindDn = "cn=x," + Base, CredentialEnvVar = "P", CredentialFile = "p" });
            s.Probes.Add(new ProbeOptions { Name = "web", Kind = ProbeKind.Http, Http = new HttpCallOptions { Url = "https://crm.example.com", ExpectStatus = 700 }, TimeoutSeconds = 0 });
        })).Should().Equal(
            "Systems:0:Probes:0:Url",
            "Systems:0:Probes:0:BindDn",
            "Systems:0:Probes:0:CredentialEnvVar",
            "Systems:0:Probes:1:Http",
            "Systems:0:Probes:2:Command",
            "Systems:0:Probes:3:Url",
            "Systems:0:Probes:3:CredentialEnvVar",
            "Systems:0:Probes:4:Name",
            "Systems:0:Probes:4:TimeoutSeconds",
            "Systems:0:Probes:4:Http:ExpectStatus");
    }

    [Fact]
    public void A_probe_kind_or_expectation_out_of_range_is_named()
    {
        Keys(Crm(s => s.Probes.Add(new ProbeOptions { Name = "x", Kind = (ProbeKind)9, Expect = (ProbeExpectation)5 }))).Should().Equal("Systems:0:Probes:0:Expect", "Systems:0:Probes:0:Kind");
    }

    [Fact]
    public void Password_sync_by_command_needs_the_hook_and_one_way_to_confirm()
    {
        static IEnumerable<string> Sync(PasswordSyncOptions sync)
        {
            var options = With();
            options.PasswordSync = sync;
            return Keys(options);
        }

        Sync(new PasswordSyncOptions()).Should().BeEmpty();
        Sync(new PasswordSyncOptions { Strategy = PasswordSyncStrategy.Command, Command = { "/opt/sync/stop" }, ReadBackCommand = { "/opt/sync/status" } }).Should().BeEmpty();
        Sync(new PasswordSyncOptions { Strategy = PasswordSyncStrategy.Command, Command = { "/opt/sync/stop" }, ReadBackGraphProperty = "onPremisesSyncEnabled" }).Should().BeEmpty();
        Sync(new PasswordSyncOptions { Strategy = PasswordSyncStrategy.Command }).Should().Equal("PasswordSync:Command", "PasswordSync:ReadBackCommand");
        Sync(new PasswordSyncOptions { Strategy = PasswordSyncStrategy.Command, Command = { "/opt/sync/stop" }, ReadBackCommand = { "/x" }, ReadBackGraphProperty = "onPremisesSyncEnabled" }).Should().Equal("PasswordSync:ReadBackCommand");
        Sync(new PasswordSyncOptions { Strategy = PasswordSyncStrategy.Command, Command = { "/opt/sync/stop" }, ReadBackGraphProperty = "on premises" }).Should().Equal("PasswordSync:ReadBackGraphProperty");
        Sync(new PasswordSyncOptions { Command = { "/opt/sync/stop" } }).Should().Equal(["PasswordSync:Strategy"], "a hook with the Graph strategy would be ignored");
        Sync(new PasswordSyncOptions { Strategy = (PasswordSyncStrategy)7 }).Should().Equal("PasswordSync:Strategy");
    }

    [Theory]
    [InlineData(0, "PasswordSync:BatchSize")]
    [InlineData(21, "PasswordSync:BatchSize")]
    [InlineData(1, null)]
    [InlineData(20, null)]
    public void The_password_sync_batch_is_between_1_and_20(int size, string? faulty)
    {
        var options = With();
        options.PasswordSync = new PasswordSyncOptions { BatchSize = size };

        Keys(options).Should().Equal(faulty is null ? [] : [faulty]);
    }
}
