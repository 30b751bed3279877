using System.Net;
using System.Net.Http.Headers;
using AuthSplit.Graph.Emulator;

namespace AuthSplit.Graph.Tests;

public sealed class EmulatorFaultPatternTests
{
    private const string Token = "emulator-token-fa17";

    private static async Task<List<HttpStatusCode>> GetUsersAsync(GraphFaults faults, int requests)
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Faults = faults }, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < requests; i++)
        {
            using var response = await http.GetAsync("v1.0/users?$select=id");
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    [Fact]
    public async Task Periodic_faults_hit_exactly_every_nth_request()
    {
        var statuses = await GetUsersAsync(new GraphFaults { ServiceUnavailableEvery = 7 }, 700);

        Enumerable.Range(0, 700).Where(i => statuses[i] == HttpStatusCode.ServiceUnavailable).Select(i => i + 1).Should().Equal(Enumerable.Range(1, 100).Select(n => n * 7));
    }

    [Fact]
    public async Task Scattered_faults_keep_the_rate_without_falling_in_step_with_a_stride()
    {
        var statuses = await GetUsersAsync(new GraphFaults { ServiceUnavailableEvery = 7, Scattered = true }, 700);

        var hits = Enumerable.Range(0, 700).Where(i => statuses[i] == HttpStatusCode.ServiceUnavailable).Select(i => i + 1).ToList();
        hits.Count.Should().BeInRange(60, 140, "one request in 7 on average");

        // A client retrying alone at a stride of 21 (a $batch of 20 sub-requests) from a faulted request:
        // periodically it would be faulted every time; scattered, it gets through.
        foreach (var first in hits.Where(h => h + (21 * 5) <= 700))
        {
            Enumerable.Range(1, 5).Select(k => first + (21 * k)).Should().Contain(n => !hits.Contains(n), $"retries from request {first} at a stride of 21 are not all faulted");
        }
    }
}
