using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Testing.Ports;

/// <summary>The target's users held in memory; a read hashes the ids it yielded.</summary>
public sealed class InMemoryTargetDirectory(IEnumerable<TargetUser> users) : ITargetDirectorySource
{
    private InputDescription? _read;

    public List<TargetUser> Users { get; } = [.. users];

    public string Description => "memory://target";

    public async IAsyncEnumerable<TargetUser> ReadUsersAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        _read = null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var user in Users)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(Encoding.UTF8.GetBytes(user.Id + "\n"));
            await Task.Yield();
            yield return user;
        }

        _read = new InputDescription { Kind = "graph", Location = Description, Sha256 = "sha256:" + Convert.ToHexStringLower(hash.GetCurrentHash()), Count = Users.Count };
    }

    public InputDescription DescribeRead() => _read ?? throw new InvalidOperationException("not read to its end");

    /// <summary>The groups, applications and service principals <see cref="ReadInventoryAsync"/> answers with.</summary>
    public TargetInventory Inventory { get; set; } = new() { Groups = [], Applications = [], ServicePrincipals = [] };

    private InputDescription? _inventoryRead;

    /// <summary>Thrown by <see cref="ReadInventoryAsync"/> instead of answering (a snapshot saved before inventories existed answers with an InputException).</summary>
    public Exception? InventoryFailure { get; set; }

    /// <summary>How many times <see cref="ReadInventoryAsync"/> was called.</summary>
    public int InventoryReads { get; private set; }

    public async Task<TargetInventory> ReadInventoryAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        InventoryReads++;
        if (InventoryFailure is not null)
        {
            throw InventoryFailure;
        }
        var ids = Inventory.Groups.Select(g => "group:" + g.Group.Id + ":" + string.Join(',', g.MemberIds))
            .Concat(Inventory.Applications.Select(a => "application:" + a.Id))
            .Concat(Inventory.ServicePrincipals.Select(s => "servicePrincipal:" + s.Id + ":" + s.AccountEnabled));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', ids)));
        _inventoryRead = new InputDescription { Kind = "graph-inventory", Location = Description, Sha256 = "sha256:" + Convert.ToHexStringLower(hash), Count = Inventory.Groups.Count + Inventory.Applications.Count + Inventory.ServicePrincipals.Count };
        return Inventory;
    }

    public InputDescription DescribeInventoryRead() => _inventoryRead ?? throw new InvalidOperationException("inventory not read");
}
