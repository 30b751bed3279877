using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Hooks.Http;
using AuthSplit.Hooks.Output;
using AuthSplit.Testing;

namespace AuthSplit.Hooks.Tests.Http;

/// <summary>The HTTP caller against a real Kestrel on 127.0.0.1 (plain, and HTTPS with an untrusted self-signed certificate).</summary>
public sealed class HttpHookCallerTests(LoopbackHttpServer server) : IClassFixture<LoopbackHttpServer>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly HttpHookCaller _caller = new(HookSecrets.None, TimeProvider.System);

    public void Dispose() => _caller.Dispose();

    private HttpCallSpec Call(string path, string method = "GET", int? expectStatus = null, string? bodyContains = null, string? body = null, IReadOnlyList<HttpHeaderSpec>? headers = null, Uri? baseUrl = null) => new()
    {
        Method = method,
        Url = new Uri(baseUrl ?? server.Http, path).ToString(),
        Headers = headers ?? [],
        Body = body,
        ExpectStatus = expectStatus,
        BodyContains = bodyContains,
    };

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task Any_2xx_succeeds_when_no_status_is_expected_and_another_status_is_refused_with_it()
    {
        var ok = await _caller.CallAsync(Call("/ok"), Timeout, CancellationToken.None);
        var created = await _caller.CallAsync(Call("/status/201", "POST"), Timeout, CancellationToken.None);
        var failed = await _caller.CallAsync(Call("/status/500", "POST"), Timeout, CancellationToken.None);

        ok.Status.Should().Be(HookStatus.Succeeded);
        ok.HttpStatus.Should().Be(200);
        ok.OutputExcerpt.Should().Be("hello world");
        ok.OutputSha256.Should().Be(Sha256(Encoding.UTF8.GetBytes("hello world")));
        ok.Detail.Should().Contain("GET " + server.Http + "ok answered 200");
        created.Status.Should().Be(HookStatus.Succeeded);
        created.HttpStatus.Should().Be(201);
        failed.Status.Should().Be(HookStatus.Refused);
        failed.HttpStatus.Should().Be(500);
        failed.OutputExcerpt.Should().Be("status 500");
        failed.Detail.Should().Contain("answered 500").And.Contain("expected a 2xx status");
    }

    [Fact]
    public async Task An_expected_status_must_match_exactly()
    {
        var matched = await _caller.CallAsync(Call("/status/202", expectStatus: 202), Timeout, CancellationToken.None);
        var mismatched = await _caller.CallAsync(Call("/ok", expectStatus: 204), Timeout, CancellationToken.None);

        matched.Status.Should().Be(HookStatus.Succeeded);
        mismatched.Status.Should().Be(HookStatus.Refused);
        mismatched.HttpStatus.Should().Be(200);
        mismatched.Detail.Should().Contain("expected 204");
    }

    [Fact]
    public async Task The_body_must_contain_the_expected_text_found_even_at_the_end_of_a_body_larger_than_the_excerpt()
    {
        var contains = await _caller.CallAsync(Call("/ok", bodyContains: "world"), Timeout, CancellationToken.None);
        var lacks = await _caller.CallAsync(Call("/ok", bodyContains: "goodbye"), Timeout, CancellationToken.None);
        var big = await _caller.CallAsync(Call("/big", bodyContains: LoopbackHttpServer.BigBodyNeedle), Timeout, CancellationToken.None);

        contains.Status.Should().Be(HookStatus.Succeeded);
        lacks.Status.Should().Be(HookStatus.Refused);
        lacks.HttpStatus.Should().Be(200);
        lacks.Detail.Should().Contain("does not contain \"goodbye\"");
        big.Status.Should().Be(HookStatus.Succeeded);
        big.OutputSha256.Should().Be(Sha256(LoopbackHttpServer.BigBody), "the whole megabyte is hashed");
        Encoding.UTF8.GetByteCount(big.OutputExcerpt).Should().Be(SystemDefaults.OutputExcerptBytes);
        big.Detail.Should().Contain("1,000,000 bytes");
    }

    [Fact]
    public async Task A_header_from_an_environment_variable_is_sent_and_never_in_the_detail_or_the_excerpt()
    {
        var variable = "AUTHSPLIT_TEST_TOKEN_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var token = "Bearer tok-" + Guid.NewGuid().ToString("N");
        var file = Path.Combine(TestPaths.NewWorkDirectory(), "api-key");
        var apiKey = "key-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(file, apiKey + "\n");
        Environment.SetEnvironmentVariable(variable, token);
        try
        {
            var call = Call("/echo", "POST", body: "{\"system\":\"crm\"}", headers: [new("Authorization", null, "env:" + variable), new("X-Api-Key", null, "file:" + file), new("X-Plain", "visible", null)]);

            var outcome = await _caller.CallAsync(call, Timeout, CancellationToken.None);

            var received = server.Requests.Last(r => r.Path == "/echo");
            received.Headers["Authorization"].Should().Be(token);
            received.Headers["X-Api-Key"].Should().Be(apiKey, "the file's first line, without its line end");
            received.Headers["X-Plain"].Should().Be("visible");
            received.Headers["Content-Type"].Should().StartWith("application/json");
            received.Body.Should().Be("{\"system\":\"crm\"}");
            outcome.Status.Should().Be(HookStatus.Succeeded);
            outcome.OutputExcerpt.Should().Be("content-type=application/json; charset=utf-8; authorization=***; x-api-key=***", "the server echoed both secrets");
            outcome.Detail.Should().NotContain(token).And.NotContain(apiKey).And.NotContain(token[7..]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task A_configured_content_type_replaces_the_json_default_of_the_body()
    {
        var outcome = await _caller.CallAsync(Call("/echo", "POST", body: "{}", headers: [new("Content-Type", "application/vnd.cutover+json", null)]), Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Succeeded);
        server.Requests.Last(r => r.Path == "/echo").Headers["Content-Type"].Should().Be("application/vnd.cutover+json");
    }

    [Fact]
    public async Task A_header_whose_variable_is_not_set_is_unavailable_naming_the_variable_and_nothing_is_sent()
    {
        var variable = "AUTHSPLIT_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var before = server.Requests.Count;

        var outcome = await _caller.CallAsync(Call("/echo", "POST", headers: [new("Authorization", null, "env:" + variable)]), Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Unavailable);
        outcome.Detail.Should().Contain(variable).And.Contain("not set");
        server.Requests.Count.Should().Be(before);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_within_the_timeout_is_timed_out()
    {
        var watch = Stopwatch.StartNew();

        var outcome = await _caller.CallAsync(Call("/slow"), TimeSpan.FromSeconds(1), CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.TimedOut);
        outcome.HttpStatus.Should().BeNull();
        outcome.Detail.Should().Contain("within 1 s");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Https_to_a_self_signed_certificate_is_unavailable_naming_the_host_and_the_tls_reason_and_no_request_arrives()
    {
        var before = server.Requests.Count(r => r.Path == "/ok");

        var outcome = await _caller.CallAsync(Call("/ok", baseUrl: server.Https), Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Unavailable);
        outcome.Detail.Should().Contain($"TLS with {server.Https.Authority} failed").And.Contain("UntrustedRoot");
        server.Requests.Count(r => r.Path == "/ok").Should().Be(before, "the request never left the client");
    }

    [Theory]
    [InlineData("http://192.0.2.10:8080/cutover")]
    [InlineData("http://hooks.example.invalid/cutover")]
    public async Task Plain_http_to_a_host_that_is_not_loopback_is_refused_without_connecting(string url)
    {
        var watch = Stopwatch.StartNew();

        var outcome = await _caller.CallAsync(new HttpCallSpec { Method = "POST", Url = url, Headers = [] }, Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Unavailable);
        outcome.Detail.Should().Contain("refused without connecting").And.Contain("loopback");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1), "192.0.2.10 (TEST-NET) never answers and .invalid never resolves: only a call that was not tried returns at once");
    }

    [Fact]
    public async Task A_port_nobody_listens_on_is_unavailable_naming_the_host()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var outcome = await _caller.CallAsync(new HttpCallSpec { Method = "GET", Url = $"http://127.0.0.1:{port}/ok", Headers = [] }, Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Unavailable);
        outcome.Detail.Should().Contain($"cannot connect to 127.0.0.1:{port}").And.Contain("ConnectionRefused");
    }
}
