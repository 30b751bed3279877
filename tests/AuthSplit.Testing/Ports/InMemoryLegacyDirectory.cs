using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.DryRun;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Testing.Ports;

/// <summary>
/// A legacy directory held in memory, for driving the dry run (and later the executor) without a server.
/// Records every read it was asked for; a read hashes the entries it yielded (DN and values, in order).
/// </summary>
public sealed class InMemoryLegacyDirectory(IEnumerable<DirectoryEntry> entries) : ILegacyDirectoryReader
{
    public List<DirectoryEntry> Entries { get; } = [.. entries];

    /// <summary>Each read opened, in order: <c>links</c> or <c>planning</c>, and the attributes asked for (<c>null</c>: whole entries).</summary>
    public List<(string Purpose, IReadOnlyCollection<string>? Attributes)> Reads { get; } = [];

    public bool IsSnapshot { get; init; }

    /// <summary>The class map given to Active Directory filters (default: AD's default schema under the base DN).</summary>
    public ObjectCategoryMap? ObjectCategories { get; init; }

    /// <summary>When set, every read fails (as a lost connection) after this many entries.</summary>
    public int? FailAfter { get; init; }

    /// <summary>Called after each complete read (e.g. to change the directory between two passes).</summary>
    public Action<InMemoryLegacyDirectory>? AfterEachRead { get; init; }

    public string Kind { get; init; } = "ldap";

    public string Location { get; init; } = "memory://legacy";

    public Task<ObjectCategoryMap> ReadObjectCategoriesAsync(DistinguishedName baseDn, CancellationToken cancellationToken) =>
        Task.FromResult(ObjectCategories ?? ObjectCategoryMap.ActiveDirectoryDefault(baseDn));

    public ILegacyDirectorySource OpenLinkRead(IReadOnlyCollection<string> attributes)
    {
        Reads.Add(("links", attributes));
        return new Source(this);
    }

    public ILegacyDirectorySource OpenPlanningRead(IReadOnlyCollection<string>? attributes)
    {
        Reads.Add(("planning", attributes));
        return new Source(this);
    }

    private sealed class Source(InMemoryLegacyDirectory directory) : ILegacyDirectorySource
    {
        private InputDescription? _read;

        public string Description => directory.Location;

        public async IAsyncEnumerable<DirectoryEntry> ReadEntriesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            _read = null;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var count = 0;
            foreach (var entry in directory.Entries.ToList())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (count == directory.FailAfter)
                {
                    throw new ExternalSystemException(directory.Location, $"the connection was lost after {count} entries of the read");
                }

                hash.AppendData(Encoding.UTF8.GetBytes(entry.Dn + "\n"));
                foreach (var (name, values) in entry.Attributes)
                {
                    foreach (var value in values)
                    {
                        hash.AppendData(Encoding.UTF8.GetBytes(name + ":"));
                        hash.AppendData(value);
                    }
                }

                count++;
                await Task.Yield();
                yield return entry;
            }

            _read = new InputDescription { Kind = directory.Kind, Location = directory.Location, Sha256 = "sha256:" + Convert.ToHexStringLower(hash.GetCurrentHash()), Count = count };
            directory.AfterEachRead?.Invoke(directory);
        }

        public InputDescription DescribeRead() => _read ?? throw new InvalidOperationException("not read to its end");
    }
}
