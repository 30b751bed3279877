using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Testing.Execution;

/// <summary>What the fake directory does instead of an operation, once.</summary>
public enum LegacyFaultKind
{
    /// <summary>Throws <see cref="ExternalSystemException"/> without applying: the server stayed away through the adapter's retries.</summary>
    Unreachable,

    /// <summary>Applies the operation, then throws <see cref="ExternalSystemException"/>: the answer was lost.</summary>
    ApplyThenUnreachable,

    /// <summary>Answers <see cref="LegacyWriteStatus.Rejected"/> without applying.</summary>
    Rejected,
}

/// <summary>One write the fake directory applied.</summary>
public sealed record LegacyWrite(string Operation, string Dn, string Detail);

/// <summary>
/// An in-memory legacy directory behind <see cref="ILegacyDirectoryWriter"/>, with a record of every
/// write it applied and fault injection: one-off faults per operation and DN, or a server that is away
/// until <see cref="Unreachable"/> is cleared. It keeps groupOfNames' rule that <c>member</c> may not
/// lose its last value, and (unless <see cref="PasswordPolicyLoaded"/>) refuses pwdAccountLockedTime as
/// slapd does without the ppolicy overlay.
/// </summary>
public sealed class InMemoryLegacyDirectory : ILegacyDirectoryWriter
{
    private readonly object _gate = new();
    private readonly Dictionary<string, DirectoryEntry> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _containers = new(StringComparer.Ordinal);
    private readonly List<LegacyWrite> _writes = [];
    private readonly List<(string Operation, string? DnContains, LegacyFaultKind Kind)> _faults = [];
    private long _operations;

    public InMemoryLegacyDirectory(DirectoryDialect dialect = DirectoryDialect.OpenLdap)
    {
        Dialect = dialect;
    }

    public string Description => "ldap://fake-directory";

    public DirectoryDialect Dialect { get; }

    public bool PasswordPolicyLoaded { get; set; } = true;

    /// <summary>While true, every operation throws <see cref="ExternalSystemException"/> (the server is away).</summary>
    public bool Unreachable { get; set; }

    /// <summary>Called before every operation with its name and DN; may throw or flip <see cref="Unreachable"/>.</summary>
    public Action<string, string>? BeforeOperation { get; set; }

    public long Operations => Interlocked.Read(ref _operations);

    public IReadOnlyList<LegacyWrite> Writes
    {
        get
        {
            lock (_gate)
            {
                return [.. _writes];
            }
        }
    }

    public IReadOnlyCollection<DirectoryEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries.Values];
            }
        }
    }

    public void Add(DirectoryEntry entry)
    {
        lock (_gate)
        {
            _entries[Key(entry.Dn)] = entry;
        }
    }

    public void AddContainer(string dn)
    {
        lock (_gate)
        {
            _containers.Add(Key(dn));
        }
    }

    /// <summary>Replaces an entry's attribute behind the executor's back (an administrator's change).</summary>
    public void Set(string dn, string attribute, params string[] values)
    {
        lock (_gate)
        {
            var entry = _entries[Key(dn)];
            var attributes = Copy(entry);
            attributes[attribute] = [.. values.Select(v => Encoding.UTF8.GetBytes(v))];
            _entries[Key(dn)] = new DirectoryEntry(entry.Dn, attributes);
        }
    }

    /// <summary>Moves or removes an entry behind the executor's back.</summary>
    public void Remove(string dn)
    {
        lock (_gate)
        {
            _entries.Remove(Key(dn));
        }
    }

    public void Rename(string dn, string newDn)
    {
        lock (_gate)
        {
            var entry = _entries[Key(dn)];
            _entries.Remove(Key(dn));
            _entries[Key(newDn)] = new DirectoryEntry(newDn, Copy(entry));
        }
    }

    public DirectoryEntry? Get(string dn)
    {
        lock (_gate)
        {
            return _entries.GetValueOrDefault(Key(dn));
        }
    }

    /// <summary>The next <paramref name="operation"/> (read, find, groups, modify, move, delete, add) on a DN containing <paramref name="dnContains"/> does <paramref name="kind"/> instead.</summary>
    public void FailNext(string operation, string? dnContains, LegacyFaultKind kind)
    {
        lock (_gate)
        {
            _faults.Add((operation, dnContains, kind));
        }
    }

    public Task<DirectoryEntry?> ReadEntryAsync(string dn, CancellationToken cancellationToken) =>
        Operate("read", dn, () => _entries.GetValueOrDefault(Key(dn)));

    public Task<IReadOnlyList<DirectoryEntry>> FindByIdentityAsync(string entityId, CancellationToken cancellationToken) =>
        Operate<IReadOnlyList<DirectoryEntry>>("find", entityId, () =>
            [.. _entries.Values.Where(e => string.Equals(EntityIdentity.Of(e, DistinguishedName.Parse(e.Dn), Dialect, out _), entityId, StringComparison.OrdinalIgnoreCase))]);

    public Task<IReadOnlyList<GroupListing>> FindGroupsListingAsync(string memberDn, CancellationToken cancellationToken) =>
        Operate<IReadOnlyList<GroupListing>>("groups", memberDn, () =>
        {
            var member = Key(memberDn);
            var listings = new List<GroupListing>();
            foreach (var entry in _entries.Values.OrderBy(e => Key(e.Dn), StringComparer.Ordinal))
            {
                foreach (var attribute in new[] { "member", "uniqueMember" })
                {
                    if (entry.GetStrings(attribute).Any(v => Key(v) == member))
                    {
                        listings.Add(new GroupListing(entry.Dn, IdentityOf(entry), attribute));
                    }
                }
            }

            return listings;
        });

    public Task<LegacyWriteResult> ModifyAsync(string dn, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken) =>
        Operate("modify", dn, () =>
        {
            if (!_entries.TryGetValue(Key(dn), out var entry))
            {
                return new LegacyWriteResult(LegacyWriteStatus.NoSuchObject, "32 noSuchObject");
            }

            var attributes = Copy(entry);
            foreach (var change in changes)
            {
                if (!PasswordPolicyLoaded && change.Attribute.Equals("pwdAccountLockedTime", StringComparison.OrdinalIgnoreCase))
                {
                    return new LegacyWriteResult(LegacyWriteStatus.Rejected, "17 undefinedAttributeType");
                }

                var current = attributes.TryGetValue(change.Attribute, out var existing) ? existing.ToList() : [];
                switch (change.Kind)
                {
                    case AttributeChangeKind.Replace:
                        current = [.. change.Values];
                        break;
                    case AttributeChangeKind.Add:
                        if (change.Values.Any(v => current.Exists(c => c.AsSpan().SequenceEqual(v))))
                        {
                            return new LegacyWriteResult(LegacyWriteStatus.AlreadyInState, "20 attributeOrValueExists");
                        }

                        current.AddRange(change.Values);
                        break;
                    case AttributeChangeKind.Delete when change.Values.Count == 0:
                        current.Clear();
                        break;
                    case AttributeChangeKind.Delete:
                        foreach (var value in change.Values)
                        {
                            var index = current.FindIndex(c => Key(Encoding.UTF8.GetString(c)) == Key(Encoding.UTF8.GetString(value)));
                            if (index < 0)
                            {
                                return new LegacyWriteResult(LegacyWriteStatus.AlreadyInState, "16 noSuchAttribute");
                            }

                            current.RemoveAt(index);
                        }

                        break;
                }

                if (current.Count == 0 && change.Attribute.Equals("member", StringComparison.OrdinalIgnoreCase) && entry.GetStrings("objectClass").Any(c => c.Equals("groupOfNames", StringComparison.OrdinalIgnoreCase)))
                {
                    return new LegacyWriteResult(LegacyWriteStatus.Rejected, "65 objectClassViolation: object class 'groupOfNames' requires attribute 'member'");
                }

                if (current.Count == 0)
                {
                    attributes.Remove(change.Attribute);
                }
                else
                {
                    attributes[change.Attribute] = current;
                }
            }

            _entries[Key(dn)] = new DirectoryEntry(entry.Dn, attributes);
            Record("modify", dn, string.Join("; ", changes.Select(c => $"{c.Kind} {c.Attribute} {string.Join("|", c.Values.Select(v => Encoding.UTF8.GetString(v)))}")));
            return LegacyWriteResult.Done(entry.Dn);
        });

    public Task<LegacyWriteResult> MoveAsync(string dn, string newParentDn, CancellationToken cancellationToken) =>
        Operate("move", dn, () =>
        {
            if (!_entries.TryGetValue(Key(dn), out var entry) || !(_containers.Contains(Key(newParentDn)) || _entries.ContainsKey(Key(newParentDn))))
            {
                return new LegacyWriteResult(LegacyWriteStatus.NoSuchObject, "32 noSuchObject");
            }

            var newDn = DistinguishedName.Render(DistinguishedName.Parse(dn).Rdns[0]) + "," + newParentDn;
            if (_entries.ContainsKey(Key(newDn)))
            {
                return new LegacyWriteResult(LegacyWriteStatus.AlreadyExists, "68 entryAlreadyExists");
            }

            _entries.Remove(Key(dn));
            _entries[Key(newDn)] = new DirectoryEntry(newDn, Copy(entry));
            Record("move", dn, newDn);
            return LegacyWriteResult.Done(newDn);
        });

    public Task<LegacyWriteResult> DeleteAsync(string dn, CancellationToken cancellationToken) =>
        Operate("delete", dn, () =>
        {
            if (!_entries.Remove(Key(dn)))
            {
                return new LegacyWriteResult(LegacyWriteStatus.NoSuchObject, "32 noSuchObject");
            }

            Record("delete", dn, string.Empty);
            return LegacyWriteResult.Done();
        });

    public Task<LegacyWriteResult> AddAsync(DirectoryEntry entry, CancellationToken cancellationToken) =>
        Operate("add", entry.Dn, () =>
        {
            if (_entries.ContainsKey(Key(entry.Dn)))
            {
                return new LegacyWriteResult(LegacyWriteStatus.AlreadyExists, "68 entryAlreadyExists");
            }

            _entries[Key(entry.Dn)] = entry;
            Record("add", entry.Dn, string.Empty);
            return LegacyWriteResult.Done(entry.Dn);
        });

    private Task<T> Operate<T>(string operation, string dn, Func<T> apply)
    {
        Interlocked.Increment(ref _operations);
        BeforeOperation?.Invoke(operation, dn);
        lock (_gate)
        {
            if (Unreachable)
            {
                throw new ExternalSystemException(Description, "the server did not answer after the adapter's retries (fake)");
            }

            var fault = _faults.FindIndex(f => f.Operation == operation && (f.DnContains is null || dn.Contains(f.DnContains, StringComparison.OrdinalIgnoreCase)));
            if (fault >= 0)
            {
                var kind = _faults[fault].Kind;
                _faults.RemoveAt(fault);
                switch (kind)
                {
                    case LegacyFaultKind.Unreachable:
                        throw new ExternalSystemException(Description, $"{operation} of {dn}: connection lost (fake)");
                    case LegacyFaultKind.ApplyThenUnreachable:
                        apply();
                        throw new ExternalSystemException(Description, $"{operation} of {dn}: the answer was lost (fake)");
                    case LegacyFaultKind.Rejected when typeof(T) == typeof(LegacyWriteResult):
                        return Task.FromResult((T)(object)new LegacyWriteResult(LegacyWriteStatus.Rejected, "50 insufficientAccessRights (fake)"));
                }
            }

            return Task.FromResult(apply());
        }
    }

    private void Record(string operation, string dn, string detail) => _writes.Add(new LegacyWrite(operation, dn, detail));

    private string? IdentityOf(DirectoryEntry entry)
    {
        var id = EntityIdentity.Of(entry, DistinguishedName.Parse(entry.Dn), Dialect, out var has);
        return has ? id : null;
    }

    private static Dictionary<string, IReadOnlyList<byte[]>> Copy(DirectoryEntry entry) =>
        new(entry.Attributes, StringComparer.OrdinalIgnoreCase);

    private static string Key(string dn) => DistinguishedName.TryParse(dn, out var parsed, out _) ? parsed.Normalized : dn.ToLowerInvariant();
}
