using System.DirectoryServices.Protocols;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Restoring;
using AuthSplit.Core.Model;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace AuthSplit.Ldap.Writing;

/// <summary>
/// The legacy directory's write side on S.DS.Protocols, every call through <see cref="LdapSession"/>.
/// One Polly pipeline owns retries: a transient failure (server gone, busy, unavailable, no answer within
/// <see cref="ExecutionOptions.LdapOperationTimeoutSeconds"/>) closes that connection and the next
/// attempt opens a new one (connect, StartTLS/LDAPS, bind), with exponential backoff and jitter, up to
/// <see cref="ExecutionOptions.LdapMaxRetries"/> attempts; then an <see cref="ExternalSystemException"/>
/// names the server. Anything the server answers for good is a <see cref="LegacyWriteResult"/>.
/// </summary>
/// <remarks>
/// A retried write may find its first attempt applied (the answer was lost, not the change): a retried
/// delete then answers noSuchObject, a retried add entryAlreadyExists, a retried value add
/// attributeOrValueExists. Those are returned as values, which is what the steps' ensures read back
/// anyway; a retried move that finds the entry already at its new DN is reported done.
/// </remarks>
public sealed partial class LdapLegacyDirectoryWriter : ILegacyDirectoryWriter, IDisposable
{
    /// <summary>The Relax Rules control: lets an add carry entryUUID, createTimestamp and creatorsName (needs manage access).</summary>
    public const string RelaxRulesOid = "1.3.6.1.4.1.4203.666.5.12";

    private static readonly TimeSpan RetryBaseDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan RetryMaxDelay = TimeSpan.FromSeconds(8);

    private readonly SourceOptions _source;
    private readonly LdapConnectionSettings _settings;
    private readonly ILogger _logger;
    private readonly LdapSessionPool _pool;
    private readonly ResiliencePipeline _pipeline;
    private readonly int _attempts;

    // Execution:LdapConnections: operations (and so connections) in flight at once, however many entities the wave works on.
    private readonly SemaphoreSlim _inFlight;

    public LdapLegacyDirectoryWriter(SourceOptions source, ExecutionOptions execution, ILogger<LdapLegacyDirectoryWriter> logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(execution);
        _source = source;
        _settings = LdapConnectionSettings.From(source);
        _logger = logger;
        _pool = new LdapSessionPool(_settings, logger);
        _attempts = Math.Max(1, execution.LdapMaxRetries);
        _inFlight = new SemaphoreSlim(Math.Max(1, execution.LdapConnections));
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider ?? TimeProvider.System };
        if (_attempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(LdapResultCodes.IsTransient),
                MaxRetryAttempts = _attempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = RetryBaseDelay,
                MaxDelay = RetryMaxDelay,
            });
        }

        _pipeline = builder
            .AddTimeout(TimeSpan.FromSeconds(Math.Max(1, execution.LdapOperationTimeoutSeconds)))
            .Build();
    }

    public string Description => _settings.Server;

    public DirectoryDialect Dialect => _source.Dialect;

    private string BaseDn => _source.BaseDn ?? throw new InputException("config-invalid", "Source:BaseDn is required to write to the legacy directory");

    private string[] WholeEntry => Dialect == DirectoryDialect.ActiveDirectory ? ["*", .. LdapLegacyDirectory.ActiveDirectoryOperational] : ["*", "+"];

    public async Task<DirectoryEntry?> ReadEntryAsync(string dn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dn);
        var found = await SearchAsync("read", dn, "(objectClass=*)", SearchScope.Base, WholeEntry, paged: false, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<IReadOnlyList<DirectoryEntry>> FindByIdentityAsync(string entityId, CancellationToken cancellationToken)
    {
        var filter = LdapWriteFilters.ByIdentity(entityId, Dialect);
        return filter is null
            ? []
            : await SearchAsync("find by identity", BaseDn, filter, SearchScope.Subtree, WholeEntry, paged: true, cancellationToken);
    }

    public async Task<IReadOnlyList<GroupListing>> FindGroupsListingAsync(string memberDn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(memberDn);

        // One search per attribute, asking only for the group's id: which search matched says which
        // attribute lists the member, without reading a large group's member values.
        var identity = Dialect == DirectoryDialect.ActiveDirectory ? "objectGUID" : "entryUUID";
        var listings = new List<GroupListing>();
        foreach (var attribute in LdapWriteFilters.MembershipAttributes(Dialect))
        {
            var groups = await SearchAsync("find groups", BaseDn, LdapWriteFilters.Listing(attribute, memberDn), SearchScope.Subtree, [identity], paged: true, cancellationToken);
            listings.AddRange(groups.Select(g => new GroupListing(g.Dn, IdOf(g), attribute)));
        }

        return listings;
    }

    public Task<LegacyWriteResult> ModifyAsync(string dn, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dn);
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0)
        {
            throw new ArgumentException("a modify needs at least one change", nameof(changes));
        }

        return ModifyCheckedAsync(dn, changes, cancellationToken);
    }

    private async Task<LegacyWriteResult> ModifyCheckedAsync(string dn, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken)
    {
        var request = new ModifyRequest(dn, [.. changes.Select(ToModification)]);
        var result = await WriteAsync("modify", dn, request, null, cancellationToken);

        // Active Directory answers a link value that is already there, or already gone, with
        // entryAlreadyExists (ERROR_MEMBER_IN_GROUP) and unwillingToPerform (ERROR_MEMBER_NOT_IN_GROUP;
        // Samba: "Attribute member already deleted") rather than attributeOrValueExists/noSuchAttribute.
        // Those codes also mean real refusals, so the entry is read: only if every value to add is there
        // and every value to delete is gone is the modify already in state.
        if ((result.Status == LegacyWriteStatus.AlreadyExists || result.Detail?.StartsWith("unwillingToPerform (53)", StringComparison.Ordinal) == true)
            && changes.All(c => c.Kind != AttributeChangeKind.Replace && c.Values.Count > 0)
            && await ReadEntryAsync(dn, cancellationToken) is { } entry)
        {
            if (changes.All(c => IsInState(entry, c)))
            {
                return new LegacyWriteResult(LegacyWriteStatus.AlreadyInState, result.Detail, dn);
            }

            // AD also answers entryAlreadyExists when the member is in the group through its primaryGroupID
            // (Samba: "already set via primaryGroupID"), a membership no member value shows: a restored
            // account's default primary group (Domain Users) is one, when the backup listed it as a value.
            if (result.Status == LegacyWriteStatus.AlreadyExists && await MembersThroughPrimaryGroupAsync(entry, changes, cancellationToken))
            {
                return new LegacyWriteResult(LegacyWriteStatus.AlreadyInState, result.Detail + " (a member through its primaryGroupID)", dn);
            }
        }

        return result.Status == LegacyWriteStatus.AlreadyExists
            ? new LegacyWriteResult(LegacyWriteStatus.Rejected, result.Detail)
            : result;
    }

    // Every member value to add that the group does not list names an entry whose primaryGroupID is the
    // group's RID (the last sub-authority of its objectSid).
    private async Task<bool> MembersThroughPrimaryGroupAsync(DirectoryEntry group, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken)
    {
        if (Dialect != DirectoryDialect.ActiveDirectory
            || !changes.All(c => c.Kind == AttributeChangeKind.Add && c.Attribute.Equals("member", StringComparison.OrdinalIgnoreCase))
            || group.GetValues("objectSid") is not [{ Length: >= 12 } sid])
        {
            return false;
        }

        var rid = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(sid.AsSpan(sid.Length - 4)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var value in changes.SelectMany(c => c.Values).Where(v => !group.GetValues("member").Any(p => SameValue(p, v))))
        {
            var member = await ReadEntryAsync(Encoding.UTF8.GetString(value), cancellationToken);
            if (member?.GetString("primaryGroupID") != rid)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsInState(DirectoryEntry entry, AttributeChange change)
    {
        var present = entry.GetValues(change.Attribute);
        return change.Values.All(value => present.Any(p => SameValue(p, value)) == (change.Kind == AttributeChangeKind.Add));
    }

    // DN-valued link attributes come back in the server's spelling (case, escapes): compare those as DNs.
    private static bool SameValue(byte[] stored, byte[] wanted)
    {
        if (stored.AsSpan().SequenceEqual(wanted))
        {
            return true;
        }

        return Core.Directory.DistinguishedName.TryParse(Encoding.UTF8.GetString(stored), out var a, out _)
            && Core.Directory.DistinguishedName.TryParse(Encoding.UTF8.GetString(wanted), out var b, out _)
            && a.Rdns.Count > 1
            && a.Equals(b);
    }

    public Task<LegacyWriteResult> MoveAsync(string dn, string newParentDn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dn);
        ArgumentNullException.ThrowIfNull(newParentDn);
        var rdn = FirstRdn(dn);
        var newDn = rdn + "," + newParentDn;
        var request = new ModifyDNRequest(dn, newParentDn, rdn) { DeleteOldRdn = true };
        return WriteAsync("move", dn, request, newDn, cancellationToken);
    }

    public Task<LegacyWriteResult> DeleteAsync(string dn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dn);
        return WriteAsync("delete", dn, new DeleteRequest(dn), null, cancellationToken);
    }

    /// <remarks>
    /// On OpenLDAP an entry that carries an attribute of <see cref="ServerManagedAttributes.OpenLdapKeptUnderRelax"/>
    /// (<c>entryUUID</c>...: a restore that keeps the entry's identity) is added under the Relax Rules control, marked critical:
    /// slapd then keeps those values, and a server or bind account that does not allow it refuses the add
    /// (<see cref="LegacyWriteStatus.Rejected"/>) instead of quietly giving the entry a new identity.
    /// </remarks>
    public Task<LegacyWriteResult> AddAsync(DirectoryEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var attributes = entry.Attributes
            .Where(a => a.Value.Count > 0)
            .Select(a => new DirectoryAttribute(a.Key, [.. a.Value.Cast<object>()]))
            .ToArray();
        var request = new AddRequest(entry.Dn, attributes);
        if (Dialect == DirectoryDialect.OpenLdap && entry.Attributes.Keys.Any(name => ServerManagedAttributes.OpenLdapKeptUnderRelax.Contains(name.Split(';', 2)[0])))
        {
            request.Controls.Add(new DirectoryControl(RelaxRulesOid, null, isCritical: true, serverSide: true));
        }

        return WriteAsync("add", entry.Dn, request, null, cancellationToken);
    }

    public void Dispose()
    {
        _pool.Dispose();
        _inFlight.Dispose();
    }

    private async Task<LegacyWriteResult> WriteAsync(string what, string dn, DirectoryRequest request, string? newDn, CancellationToken cancellationToken)
    {
        var lastAttempt = 0;
        var result = await ExecuteAsync(what, dn, async (session, attempt, token) =>
        {
            lastAttempt = attempt;

            // Every attempt of a write asks the run's lease: a retry after a freeze must not go out.
            AuthSplit.Core.Execution.Cluster.WriteFence.ThrowIfLost();
            try
            {
                await session.SendAsIsAsync(request, token);
                return LegacyWriteResult.Done(newDn ?? dn);
            }
            catch (Exception ex) when (!LdapResultCodes.IsTransient(ex) && LdapResultCodes.TryGetCode(ex, out var code, out var message))
            {
                var status = LdapResultCodes.StatusOf(code);
                var detail = LdapResultCodes.Describe(code, message);
                if (attempt > 1)
                {
                    detail += string.Create(System.Globalization.CultureInfo.InvariantCulture, $" (attempt {attempt}: an earlier attempt's answer was lost, it may have been applied)");
                }

                LogRefused(_logger, what, dn, detail);
                return new LegacyWriteResult(status, detail, status is LegacyWriteStatus.NoSuchObject or LegacyWriteStatus.Rejected ? null : newDn ?? dn);
            }
        }, cancellationToken);

        // A move whose earlier attempt went through before the connection dropped: the entry is gone from
        // its old DN and is at the new one.
        if (request is ModifyDNRequest && newDn is not null && lastAttempt > 1 && result.Status == LegacyWriteStatus.NoSuchObject
            && await ReadEntryAsync(newDn, cancellationToken) is not null)
        {
            return new LegacyWriteResult(LegacyWriteStatus.Done, "the entry is at its new DN: an earlier attempt's answer was lost", newDn);
        }

        return result;
    }

    private async Task<List<DirectoryEntry>> SearchAsync(string what, string baseDn, string filter, SearchScope scope, string[] attributes, bool paged, CancellationToken cancellationToken) =>
        await ExecuteAsync(what, baseDn, async (session, _, token) =>
        {
            var entries = new List<DirectoryEntry>();
            var request = new SearchRequest(baseDn, filter, scope, attributes);
            PageResultRequestControl? paging = null;
            if (paged)
            {
                paging = new PageResultRequestControl(_source.PageSize) { IsCritical = true };
                request.Controls.Add(paging);
            }

            while (true)
            {
                SearchResponse response;
                try
                {
                    response = (SearchResponse)await session.SendAsIsAsync(request, token);
                }
                catch (DirectoryOperationException ex) when (ex.Response?.ResultCode == ResultCode.NoSuchObject)
                {
                    return entries;
                }
                catch (Exception ex) when (!LdapResultCodes.IsTransient(ex) && LdapResultCodes.TryGetCode(ex, out var code, out var message))
                {
                    throw new ExternalSystemException(_settings.Server, $"{what} under {baseDn} failed: {LdapResultCodes.Describe(code, message)}", ex);
                }

                foreach (SearchResultEntry entry in response.Entries)
                {
                    entries.Add(await LdapLegacyDirectory.ToEntryAsync(session, entry, token));
                }

                var cookie = paging is null ? null : response.Controls.OfType<PageResultResponseControl>().FirstOrDefault()?.Cookie;
                if (paging is null || cookie is null || cookie.Length == 0)
                {
                    return entries;
                }

                paging.Cookie = cookie;
            }
        }, cancellationToken);

    /// <summary>Runs one operation through the pipeline on a session of its own; after the last attempt, the directory is unreachable.</summary>
    private async Task<T> ExecuteAsync<T>(string what, string dn, Func<LdapSession, int, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        await _inFlight.WaitAsync(cancellationToken);
        try
        {
            return await ExecuteInSlotAsync(what, dn, operation, cancellationToken);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task<T> ExecuteInSlotAsync<T>(string what, string dn, Func<LdapSession, int, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        var attempt = 0;
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                var current = Interlocked.Increment(ref attempt);
                LdapSessionPool.Lease? lease = null;
                try
                {
                    lease = await _pool.RentAsync(token);
                    var result = await operation(lease.Session, current, token);
                    _pool.Return(lease);
                    return result;
                }
                catch (Exception ex) when (LdapResultCodes.IsTransient(ex) || ex is OperationCanceledException)
                {
                    if (lease is not null)
                    {
                        _pool.Discard(lease);
                    }

                    if (LdapResultCodes.IsTransient(ex) || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                    {
                        LogAttemptFailed(_logger, what, dn, _settings.Server, current, _attempts, Reason(ex));
                    }

                    throw;
                }
                catch
                {
                    if (lease is not null)
                    {
                        _pool.Return(lease);
                    }

                    throw;
                }
            }, cancellationToken);
        }
        catch (Exception ex) when (LdapResultCodes.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(_logger, what, dn, _settings.Server, attempt);
            throw new ExternalSystemException(
                _settings.Server,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{what} of {dn} failed {attempt} times (Execution:LdapMaxRetries): the directory stayed unreachable ({Reason(ex)}). Nothing more is written; run the wave again once the server answers"),
                ex);
        }
    }

    private static string Reason(Exception exception) => exception switch
    {
        TimeoutRejectedException => "no answer within Execution:LdapOperationTimeoutSeconds",
        TimeoutException => "no answer within Source:TimeoutSeconds",
        ExternalSystemException external => external.Message,
        _ when LdapResultCodes.TryGetCode(exception, out var code, out var message) => LdapResultCodes.Describe(code, message),
        _ => exception.GetType().Name,
    };

    private static DirectoryAttributeModification ToModification(AttributeChange change)
    {
        var modification = new DirectoryAttributeModification
        {
            Name = change.Attribute,
            Operation = change.Kind switch
            {
                AttributeChangeKind.Add => DirectoryAttributeOperation.Add,
                AttributeChangeKind.Delete => DirectoryAttributeOperation.Delete,
                AttributeChangeKind.Replace => DirectoryAttributeOperation.Replace,
                _ => throw new ArgumentOutOfRangeException(nameof(change), change.Kind, "unknown change kind"),
            },
        };
        foreach (var value in change.Values)
        {
            modification.Add(value);
        }

        return modification;
    }

    private string? IdOf(DirectoryEntry group)
    {
        if (Dialect == DirectoryDialect.ActiveDirectory)
        {
            var guid = group.GetValues("objectGUID");
            return guid.Count == 1 && guid[0].Length == 16 ? new Guid(guid[0]).ToString("D") : null;
        }

        var uuid = group.GetValues("entryUUID");
        return uuid.Count == 1 ? Encoding.UTF8.GetString(uuid[0]).Trim().ToLowerInvariant() : null;
    }

    /// <summary>The DN's first RDN as the caller wrote it (escapes kept, multi-valued RDNs whole).</summary>
    internal static string FirstRdn(string dn)
    {
        for (var i = 0; i < dn.Length; i++)
        {
            if (dn[i] == '\\')
            {
                i++;
            }
            else if (dn[i] == ',')
            {
                return dn[..i].Trim();
            }
        }

        throw new ArgumentException($"\"{dn}\" has no parent to move from", nameof(dn));
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "LDAP {Operation} of {Dn} on {Server} failed on attempt {Attempt} of {Attempts} ({Reason}); reconnecting")]
    private static partial void LogAttemptFailed(ILogger logger, string operation, string dn, string server, int attempt, int attempts, string reason);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "LDAP {Operation} of {Dn}: {Server} stayed unreachable after {Attempts} attempts")]
    private static partial void LogUnreachable(ILogger logger, string operation, string dn, string server, int attempts);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Debug, Message = "LDAP {Operation} of {Dn}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string operation, string dn, string detail);
}
