using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using AuthSplit.Core.Model;

namespace AuthSplit.Graph.Snapshots;

/// <summary>
/// One page of a target snapshot as it is saved: <c>{"value":[...]}</c> holding the users exactly as
/// Graph sent them (each user's JSON byte for byte, one per line), without the paging links, so that
/// the same users in the same order always give the same bytes and the same hash.
/// </summary>
public sealed class GraphUserPage
{
    private static readonly byte[] Start = "{\"value\":[\n"u8.ToArray();
    private static readonly byte[] Separator = ",\n"u8.ToArray();
    private static readonly byte[] End = "\n]}\n"u8.ToArray();

    private GraphUserPage(int number, byte[] content, IReadOnlyList<TargetUser> users)
    {
        Number = number;
        Content = content;
        Users = users;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
    }

    /// <summary>1 for the first page.</summary>
    public int Number { get; }

    public string FileName => FileNameOf(Number);

    /// <summary>The page file's bytes.</summary>
    public byte[] Content { get; }

    public IReadOnlyList<TargetUser> Users { get; }

    /// <summary>Lower-case hex SHA-256 of <see cref="Content"/>.</summary>
    public string Sha256 { get; }

    /// <summary>Page files sort by name in page order.</summary>
    public static string FileNameOf(int number) => $"users-{number:D5}.json";

    /// <summary>The hash a directory of these pages has (the rule of <see cref="GraphUserSnapshot.Sha256"/>).</summary>
    public static string Combine(IEnumerable<GraphUserPage> pages) => GraphUserSnapshot.CombinePages(pages.Select(p => (p.FileName, p.Sha256)));

    /// <summary>
    /// The page from one Graph response body (<c>{"@odata.context":..., "value":[...], "@odata.nextLink":...}</c>),
    /// and the link to the next page (null on the last one).
    /// </summary>
    /// <exception cref="Core.Errors.InputException">The body is not a page of users with ids.</exception>
    /// <exception cref="JsonException">The body is not JSON.</exception>
    public static GraphUserPage FromResponse(int number, byte[] body, string origin, out string? nextLink)
    {
        using var document = JsonDocument.Parse(GraphUserSnapshot.WithoutByteOrderMark(body));
        nextLink = GraphUserSnapshot.NextLink(document.RootElement);
        var users = GraphUserSnapshot.ParseUsers(document.RootElement, origin);
        using var content = new MemoryStream(body.Length);
        content.Write(Start);
        var first = true;
        foreach (var item in document.RootElement.GetProperty("value").EnumerateArray())
        {
            if (!first)
            {
                content.Write(Separator);
            }

            content.Write(JsonMarshal.GetRawUtf8Value(item));
            first = false;
        }

        content.Write(End);
        return new GraphUserPage(number, content.ToArray(), users);
    }
}
