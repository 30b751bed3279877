using System.Text.Json.Nodes;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Users;

namespace AuthSplit.Graph.Tests;

/// <summary>One user property read back for many users (the Command password-sync strategy's Graph read-back) against the emulator.</summary>
public sealed class GraphUserPropertyTests
{
    private const string Token = "emulator-token-4410ce";

    [Fact]
    public async Task A_property_is_read_per_user_in_batches_as_text_with_null_for_null_and_NotFound_for_a_missing_user()
    {
        var users = Enumerable.Range(0, 25).Select(i => new JsonObject
        {
            ["id"] = Id(i),
            ["userPrincipalName"] = $"user{i}@example.jp",
            ["onPremisesSyncEnabled"] = i % 3 == 0 ? null : i % 3 == 1,
        }).ToList();
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = users }, CancellationToken.None);
        using var connection = EmulatorConnection.Connect(emulator, Token);
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 25).Select(Id).Append("99999999-aaaa-4000-8000-000000000000").ToList();

        var values = await tenant.GetUserPropertyAsync(ids, "onPremisesSyncEnabled", CancellationToken.None);

        values.Should().HaveCount(26);
        for (var i = 0; i < 25; i++)
        {
            var value = values.Single(v => v.UserId == Id(i));
            value.Status.Should().Be(TargetWriteStatus.Verified);
            value.Value.Should().Be(i % 3 == 0 ? null : i % 3 == 1 ? "true" : "false");
        }

        values.Single(v => v.UserId.StartsWith("99999999", StringComparison.Ordinal)).Status.Should().Be(TargetWriteStatus.NotFound);
        emulator.Received.Where(r => !r.InBatch).Should().HaveCount(2, "26 reads go as two $batches");
        emulator.Received.Where(r => r.InBatch).Should().OnlyContain(r => r.PathAndQuery.Contains("$select=id,onPremisesSyncEnabled", StringComparison.Ordinal));
    }

    private static string Id(int i) => $"{i:D8}-bbbb-4000-8000-000000000000";
}
