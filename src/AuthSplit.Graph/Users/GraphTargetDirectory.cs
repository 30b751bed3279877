using System.Runtime.CompilerServices;
using System.Text.Json;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Inventory;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;

namespace AuthSplit.Graph.Users;

/// <summary>
/// The tenant's users read live through Microsoft Graph: <c>GET /v1.0/users?$select=...&amp;$top=999</c>,
/// following <c>@odata.nextLink</c> only within the configured endpoint (<see cref="GraphEndpoint"/>). Each response is kept as the page a target snapshot holds
/// (<see cref="GraphUserPage"/>) and its users are parsed by the snapshot's own parser, so a plan from
/// the live tenant and a plan from the saved snapshot see exactly the same users.
/// </summary>
public sealed partial class GraphTargetDirectory(GraphConnection connection, IEnumerable<string> extraProperties) : ITargetDirectorySource
{
    /// <summary>What a target snapshot holds; matching rules may add more.</summary>
    public static readonly IReadOnlyList<string> SnapshotProperties = ["id", "userPrincipalName", "mail", "employeeId", "onPremisesImmutableId", "accountEnabled", "onPremisesSyncEnabled"];

    private static readonly Dictionary<string, ParsableFactory<IParsable>> ErrorMapping = new() { ["XXX"] = ODataError.CreateFromDiscriminatorValue };

    private readonly string[] _select = [.. SnapshotProperties.Concat(extraProperties).Distinct(StringComparer.OrdinalIgnoreCase)];
    private readonly GraphUserSnapshotWriter? _saveTo;
    private readonly GraphInventory _inventory = new(connection);
    private InputDescription? _read;
    private InputDescription? _inventoryRead;
    // With a snapshot being saved: the one inventory read, saved beside the users and answered as the inventory.
    private TargetInventory? _savedInventory;

    /// <param name="connection">The tenant.</param>
    /// <param name="extraProperties">The properties matching rules compare, beyond <see cref="SnapshotProperties"/>.</param>
    /// <param name="saveTo">Where <see cref="ReadUsersAsync"/> saves each page as it reads it (<c>--save-snapshot</c>), or <c>null</c>.</param>
    public GraphTargetDirectory(GraphConnection connection, IEnumerable<string> extraProperties, GraphUserSnapshotWriter? saveTo)
        : this(connection, extraProperties)
    {
        _saveTo = saveTo;
    }

    public string Description => connection.Description;

    public IReadOnlyList<string> Select => _select;

    /// <summary>The hash of the pages read, by the snapshot directory's rule; known once every page was read.</summary>
    public string? Sha256 { get; private set; }

    /// <summary>
    /// The users, page by page. With a snapshot being saved, the inventory is read too once the last page
    /// is in (<see cref="ReadInventoryAsync"/>), so every saved snapshot holds it, whether or not this plan
    /// needs it: a later plan from the snapshot can check systems and groups offline.
    /// </summary>
    public async IAsyncEnumerable<TargetUser> ReadUsersAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in ReadPagesAsync(cancellationToken))
        {
            if (_saveTo is not null)
            {
                await _saveTo.WriteAsync(page, cancellationToken);
            }

            foreach (var user in page.Users)
            {
                yield return user;
            }
        }

        // Unless the planner already read it: one inventory read per saved snapshot, the one planned from.
        if (_saveTo is not null && _savedInventory is null)
        {
            await ReadInventoryAsync(cancellationToken);
        }
    }

    /// <summary>Every page in order; the sequence completes only when Graph gave the last one (no nextLink).</summary>
    public async IAsyncEnumerable<GraphUserPage> ReadPagesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Sha256 = null;
        _read = null;
        var users = 0;
        var hashes = new List<(string Name, string Hash)>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var request = connection.Client.Users.ToGetRequestInformation(request =>
        {
            request.QueryParameters.Select = _select;
            request.QueryParameters.Top = 999;
        });
        for (var number = 1; request is not null; number++)
        {
            var body = await CallAsync(request, cancellationToken);
            GraphUserPage page;
            string? next;
            try
            {
                page = GraphUserPage.FromResponse(number, body, $"{connection.Description} page {number}", out next);
            }
            catch (Exception ex) when (ex is InputException or JsonException)
            {
                throw new ExternalSystemException(connection.Description, $"Graph's users page {number} is not a page of users: {ex.Message}", ex);
            }

            foreach (var user in page.Users)
            {
                if (!seen.Add(user.Id))
                {
                    throw new ExternalSystemException(connection.Description, $"Graph returned user {user.Id} twice while paging (page {number}); the read is inconsistent, run the plan again");
                }
            }

            hashes.Add((page.FileName, page.Sha256));
            users += page.Users.Count;
            yield return page;
            request = next is null ? null : connection.Client.Users.WithUrl(connection.Endpoint.RequireOwnLink(next, $"users page {number}")).ToGetRequestInformation();
        }

        var sha256 = GraphUserSnapshot.CombinePages(hashes);
        Sha256 = sha256;
        _read = new InputDescription { Kind = "graph", Location = Description, Sha256 = sha256, Count = users };
    }

    /// <inheritdoc/>
    public InputDescription DescribeRead() =>
        _read ?? throw new InvalidOperationException($"the read of {Description} did not reach its last page");

    /// <summary>
    /// The groups (with the user members of the synchronised ones), applications and service principals,
    /// read live each time; with a snapshot being saved, read once (after the users, or earlier if asked
    /// earlier), saved, and answered again after that, so the plan and its snapshot hold the same inventory.
    /// </summary>
    public async Task<TargetInventory> ReadInventoryAsync(CancellationToken cancellationToken)
    {
        if (_savedInventory is not null)
        {
            return _savedInventory;
        }

        _inventoryRead = null;
        var inventory = await _inventory.ReadInventoryAsync(cancellationToken);
        // The hash is over the files a snapshot saves (GraphInventoryFiles' canonical rendering), so a plan
        // from the saved snapshot records the same inventory hash as this live read.
        var files = GraphInventoryFiles.Render(inventory);
        if (_saveTo is not null)
        {
            await _saveTo.WriteInventoryAsync(files, cancellationToken);
            _savedInventory = inventory;
        }

        _inventoryRead = GraphInventoryFiles.Describe(Description, files);
        var synchronised = inventory.Groups.Count(g => g.Group.OnPremisesSyncEnabled == true);
        var memberships = inventory.Groups.Sum(g => g.MemberIds.Count);
        LogInventory(connection.Logger, inventory.Groups.Count, synchronised, memberships, inventory.Applications.Count, inventory.ServicePrincipals.Count, Description);
        return inventory;
    }

    /// <inheritdoc/>
    public InputDescription DescribeInventoryRead() =>
        _inventoryRead ?? throw new InvalidOperationException($"the inventory read of {Description} did not complete");

    [LoggerMessage(EventId = 3120, Level = LogLevel.Information, Message = "Read the target's inventory from {Source}: {Groups} groups ({Synchronised} synchronised from on-premises, {Memberships} user memberships of those), {Applications} applications, {ServicePrincipals} service principals")]
    private static partial void LogInventory(ILogger logger, int groups, int synchronised, int memberships, int applications, int servicePrincipals, string source);

    private async Task<byte[]> CallAsync(RequestInformation request, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await connection.Client.RequestAdapter.SendPrimitiveAsync<Stream>(request, ErrorMapping, cancellationToken)
                ?? throw new ExternalSystemException(connection.Description, "Graph answered a users page with no body");
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (Exception ex) when (GraphErrors.IsGraphFailure(ex))
        {
            throw GraphErrors.From(connection.Description, ex);
        }
    }
}
