using System.Text;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Snapshots;
using AuthSplit.Testing;

namespace AuthSplit.Graph.Tests.Snapshots;

/// <summary>Target snapshots that are short, tampered with or hold a value of the wrong type never become a plan.</summary>
public sealed class GraphUserSnapshotTests
{
    private const string Link = "https://graph.microsoft.com/v1.0/users?$select=id&$skiptoken=RFNwdAIAAQAAAA";

    private static string Page(int first, int count, string? nextLink) =>
        "{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,accountEnabled)\",\"value\":["
        + string.Join(',', Enumerable.Range(first, count).Select(i => $"{{\"id\":\"{i:D8}-0000-0000-0000-000000000001\",\"userPrincipalName\":\"user{i}@example.jp\",\"accountEnabled\":true}}"))
        + "]" + (nextLink is null ? string.Empty : $",\"@odata.nextLink\":\"{nextLink}\"") + "}";

    private static async Task<List<TargetUser>> ReadAsync(string path)
    {
        var users = new List<TargetUser>();
        await foreach (var user in new GraphUserSnapshot(path).ReadUsersAsync(CancellationToken.None))
        {
            users.Add(user);
        }

        return users;
    }

    private static string Folder(params string[] pages)
    {
        var folder = TestPaths.NewWorkDirectory();
        for (var i = 0; i < pages.Length; i++)
        {
            File.WriteAllText(Path.Combine(folder, $"users-{i + 1:D4}.json"), pages[i]);
        }

        return folder;
    }

    [Fact]
    public async Task Pages_linked_to_each_other_up_to_a_last_page_without_a_link_are_read()
    {
        (await ReadAsync(Folder(Page(0, 3, Link), Page(3, 3, Link), Page(6, 2, null)))).Should().HaveCount(8);
        (await ReadAsync(Path.Combine(TestPaths.Samples, "target"))).Should().NotBeEmpty();
    }

    [Fact]
    public async Task A_last_page_with_a_next_link_is_refused_naming_the_missing_page()
    {
        var folder = Folder(Page(0, 3, Link), Page(3, 3, Link));
        var single = Path.Combine(TestPaths.NewWorkDirectory(), "users.json");
        await File.WriteAllTextAsync(single, Page(0, 3, Link));

        foreach (var (path, last) in new[] { (folder, Path.Combine(folder, "users-0002.json")), (single, single) })
        {
            var act = () => ReadAsync(path);

            (await act.Should().ThrowAsync<InputException>()).Which.Message.Should()
                .StartWith(last + ": ").And.Contain($"the page after {Path.GetFileName(last)} is missing").And.Contain("$skiptoken=");
        }
    }

    [Fact]
    public async Task A_page_without_a_link_before_the_last_is_refused()
    {
        var folder = Folder(Page(0, 3, Link), Page(3, 3, null), Page(6, 3, Link), Page(9, 1, null));

        var act = () => ReadAsync(folder);

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should()
            .StartWith(Path.Combine(folder, "users-0002.json")).And.Contain("not the pages of one read");
    }

    private static async Task<string> SavedSnapshotAsync()
    {
        var folder = Path.Combine(TestPaths.NewWorkDirectory(), "target");
        using var writer = new GraphUserSnapshotWriter(folder);
        for (var number = 1; number <= 3; number++)
        {
            var page = GraphUserPage.FromResponse(number, Encoding.UTF8.GetBytes(Page((number - 1) * 4, 4, number < 3 ? Link : null)), $"page {number}", out _);
            await writer.WriteAsync(page, CancellationToken.None);
        }

        writer.Commit();
        return folder;
    }

    [Fact]
    public async Task A_saved_snapshot_records_its_pages_in_a_manifest_and_reads_back()
    {
        var folder = await SavedSnapshotAsync();

        var manifest = await File.ReadAllTextAsync(Path.Combine(folder, "manifest.json"));
        manifest.Should().Contain("\"pages\": 3").And.Contain("\"users\": 12").And.Contain("users-00002.json");
        (await ReadAsync(folder)).Should().HaveCount(12);
    }

    [Fact]
    public async Task A_saved_snapshot_with_a_page_file_deleted_is_refused_naming_the_page()
    {
        var folder = await SavedSnapshotAsync();
        File.Delete(Path.Combine(folder, "users-00002.json"));

        var act = () => ReadAsync(folder);

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should()
            .Contain("manifest.json").And.Contain("page file users-00002.json is missing").And.Contain("3 pages of 12 users");
    }

    [Fact]
    public async Task A_saved_snapshot_with_a_page_changed_or_added_is_refused()
    {
        var changed = await SavedSnapshotAsync();
        var page = Path.Combine(changed, "users-00003.json");
        await File.WriteAllTextAsync(page, (await File.ReadAllTextAsync(page)).Replace("user8@", "someone@", StringComparison.Ordinal));
        var added = await SavedSnapshotAsync();
        await File.WriteAllTextAsync(Path.Combine(added, "users-00004.json"), Page(100, 1, null));

        var changedAct = () => ReadAsync(changed);
        var addedAct = () => ReadAsync(added);

        (await changedAct.Should().ThrowAsync<InputException>()).Which.Message.Should().Contain("users-00003.json differs from the page that was saved");
        (await addedAct.Should().ThrowAsync<InputException>()).Which.Message.Should().Contain("users-00004.json is not one of the 3 pages");
    }

    [Theory]
    [InlineData("\"accountEnabled\":\"yes\"", "\"accountEnabled\" must be true, false or null, found \"yes\" (string)")]
    [InlineData("\"accountEnabled\":1", "\"accountEnabled\" must be true, false or null, found 1 (number)")]
    [InlineData("\"mail\":42", "\"mail\" must be a string or null, found 42 (number)")]
    [InlineData("\"userPrincipalName\":[\"a@example.jp\"]", "\"userPrincipalName\" must be a string or null")]
    [InlineData("\"onPremisesSyncEnabled\":\"false\"", "\"onPremisesSyncEnabled\" must be true, false or null, found \"false\" (string)")]
    [InlineData("\"AccountEnabled\":\"true\"", "\"AccountEnabled\" must be true, false or null, found \"true\" (string)")]
    [InlineData("\"displayName\":false", "\"displayName\" must be a string or null, found false (false)")]
    public async Task A_value_of_the_wrong_type_is_bad_input_naming_file_user_and_property(string property, string what)
    {
        var path = Path.Combine(TestPaths.NewWorkDirectory(), "users.json");
        await File.WriteAllTextAsync(path, "{\"value\":[{\"id\":\"u-1\",\"accountEnabled\":true},{\"id\":\"u-2\"," + property + "}]}");

        var act = () => ReadAsync(path);

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().StartWith(path + ": user u-2 (value[1]): " + what);
    }

    [Fact]
    public async Task A_page_with_a_utf8_byte_order_mark_is_read()
    {
        var path = Path.Combine(TestPaths.NewWorkDirectory(), "users.json");
        await File.WriteAllBytesAsync(path, [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(Page(0, 2, null))]);

        var users = await ReadAsync(path);

        users.Select(u => u.UserPrincipalName).Should().Equal("user0@example.jp", "user1@example.jp");
    }
}
