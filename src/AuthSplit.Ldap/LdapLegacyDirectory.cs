using System.DirectoryServices.Protocols;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Hashing;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Ldap.Ldif;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Ldap;

/// <summary>
/// Reads the legacy directory live (OpenLDAP or Active Directory) with simple paged results, streaming
/// every entry under <see cref="SourceOptions.BaseDn"/> with all user and operational attributes as raw
/// bytes. TLS is on by default (LDAPS or StartTLS, certificates always verified); a read that does not
/// finish cleanly throws instead of ending short. Referrals are never chased (that would resolve names
/// through DNS and leave the machine). What was read is hashed as its LDIF rendering (<see cref="LdifWriter"/>),
/// which is byte for byte the snapshot <c>--save-snapshot</c> keeps, so a plan from the live directory and
/// a plan from its saved snapshot record the same hash.
/// </summary>
public sealed partial class LdapLegacyDirectory : ILegacyDirectorySource
{
    // Active Directory does not return operational attributes for "+": name the ones the planner may use.
    internal static readonly string[] ActiveDirectoryOperational =
    [
        "objectGUID", "objectSid", "whenChanged", "whenCreated", "uSNChanged", "isCriticalSystemObject", "adminCount",
        "memberOf", "msDS-User-Account-Control-Computed", "distinguishedName",
    ];

    private readonly SourceOptions _options;
    private readonly LdapConnectionSettings _settings;
    private readonly ILogger<LdapLegacyDirectory> _logger;
    private readonly IProgress<int>? _progress;

    private readonly string[]? _attributes;
    private readonly Stream? _snapshot;
    private InputDescription? _read;

    /// <param name="options">The <c>Source</c> section: where the directory is and how to bind.</param>
    /// <param name="logger">Where warnings (plain LDAP, referrals skipped) and progress go.</param>
    /// <param name="progress">Told the number of entries read so far, for the progress line.</param>
    /// <param name="attributes">
    /// The attributes to read; <c>null</c> reads whole entries (<c>'*' '+'</c>, or <c>'*'</c> and AD's
    /// operational attributes), as a snapshot must. Asking only for what the plan relies on costs the
    /// directory and this process a fraction of a whole read.
    /// </param>
    public LdapLegacyDirectory(SourceOptions options, ILogger<LdapLegacyDirectory> logger, IProgress<int>? progress = null, IReadOnlyCollection<string>? attributes = null)
    {
        _attributes = attributes is null ? null : [.. attributes];
        _options = options;
        _settings = LdapConnectionSettings.From(options);
        _logger = logger;
        _progress = progress;
    }

    /// <param name="options">The <c>Source</c> section: where the directory is and how to bind.</param>
    /// <param name="logger">Where warnings (plain LDAP, referrals skipped) and progress go.</param>
    /// <param name="progress">Told the number of entries read so far, for the progress line.</param>
    /// <param name="attributes">The attributes to read; <c>null</c> reads whole entries.</param>
    /// <param name="snapshot">
    /// Where the LDIF rendering of what is read goes as it is read (the hashed bytes themselves); left open,
    /// and complete (with its trailer) only once a read completed. <c>null</c>: rendered only to be hashed.
    /// </param>
    public LdapLegacyDirectory(SourceOptions options, ILogger<LdapLegacyDirectory> logger, IProgress<int>? progress, IReadOnlyCollection<string>? attributes, Stream? snapshot)
        : this(options, logger, progress, attributes)
    {
        _snapshot = snapshot;
    }

    public string Description => _settings.Server;

    public async IAsyncEnumerable<DirectoryEntry> ReadEntriesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var session = await LdapSession.OpenAsync(_settings, _logger, cancellationToken);
        var attributes = _attributes
            ?? (_options.Dialect == DirectoryDialect.ActiveDirectory ? ["*", .. ActiveDirectoryOperational] : ["*", "+"]);
        var paging = new PageResultRequestControl(_options.PageSize) { IsCritical = true };
        var request = new SearchRequest(_options.BaseDn, "(objectClass=*)", SearchScope.Subtree, attributes);
        request.Controls.Add(paging);
        if (_options.Dialect == DirectoryDialect.ActiveDirectory)
        {
            // Keep AD from generating referrals to other domains for this search.
            request.Controls.Add(new DomainScopeControl());
        }

        _read = null;
        var count = 0;
        var pages = 0;
        var hashing = new HashingWriteStream(_snapshot ?? Stream.Null);
        var rendering = new LdifWriter(hashing);
        try
        {
            while (true)
            {
                var response = await session.SearchPageAsync(request, count, cancellationToken);
                pages++;
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    foreach (SearchResultReference reference in response.References)
                    {
                        var urls = string.Join(' ', reference.Reference.Select(u => u.ToString()));
                        LogReferenceSkipped(_logger, urls);
                    }
                }

                foreach (SearchResultEntry entry in response.Entries)
                {
                    var read = await ToEntryAsync(session, entry, cancellationToken);
                    await rendering.WriteAsync(read, cancellationToken);
                    yield return read;

                    // Counted whether or not anyone is told: the count is the read's own (its description, and "lost after N entries").
                    count++;
                    _progress?.Report(count);
                }

                var pageResponse = response.Controls.OfType<PageResultResponseControl>().FirstOrDefault()
                    ?? throw new ExternalSystemException(_settings.Server, $"the server answered page {pages} without a paged-results control; the read cannot be proven complete, so no plan is made from it");
                if (pageResponse.Cookie is null || pageResponse.Cookie.Length == 0)
                {
                    break;
                }

                paging.Cookie = pageResponse.Cookie;
            }

            // The trailer, then the writer's buffer, before the hash is taken: the hash covers the whole rendering.
            await rendering.CompleteAsync(cancellationToken);
            await rendering.DisposeAsync();
            _read = new InputDescription { Kind = "ldap", Location = Description, Sha256 = hashing.Sha256(), Count = count };
        }
        finally
        {
            // A read that failed leaves its rendering unfinished (no trailer), which a snapshot reader refuses.
            hashing.Dispose();
        }

        LogReadComplete(_logger, count, pages, _settings.Server);
    }

    /// <inheritdoc/>
    public InputDescription DescribeRead() =>
        _read ?? throw new InvalidOperationException($"the read of {Description} has not completed");

    // S.DS.P hands attributes over in hash-table order, which changes from process to process, so
    // they are put in one canonical order (objectClass first, then by name) and the same directory
    // gives a byte-identical snapshot on every read. Value order is the server's.
    internal static async Task<DirectoryEntry> ToEntryAsync(LdapSession session, SearchResultEntry entry, CancellationToken cancellationToken)
    {
        var read = new DirectoryAttribute[entry.Attributes.Count];
        entry.Attributes.Values.CopyTo(read, 0);
        Array.Sort(read, CanonicalAttributeOrder);
        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(read.Length, StringComparer.OrdinalIgnoreCase);
        foreach (var attribute in read)
        {
            var values = attribute.GetValues(typeof(byte[])).Cast<byte[]>().ToList();
            var name = attribute.Name;
            var range = RangedAttribute().Match(name);
            if (range.Success)
            {
                name = range.Groups["name"].Value;
                if (range.Groups["end"].Value != "*")
                {
                    var next = long.Parse(range.Groups["end"].Value, System.Globalization.CultureInfo.InvariantCulture) + 1;
                    values.AddRange(await session.ReadRemainingRangeAsync(entry.DistinguishedName, name, next, cancellationToken));
                }
            }

            attributes[name] = values;
        }

        return new DirectoryEntry(entry.DistinguishedName, attributes);
    }

    private static int CanonicalAttributeOrder(DirectoryAttribute a, DirectoryAttribute b)
    {
        var aFirst = string.Equals(a.Name, "objectClass", StringComparison.OrdinalIgnoreCase);
        var bFirst = string.Equals(b.Name, "objectClass", StringComparison.OrdinalIgnoreCase);
        return aFirst != bFirst ? (aFirst ? -1 : 1) : StringComparer.OrdinalIgnoreCase.Compare(a.Name, b.Name) is var byName and not 0
            ? byName
            : string.CompareOrdinal(a.Name, b.Name);
    }

    [GeneratedRegex("^(?<name>[^;]+(;(?!range=)[^;]+)*);range=(?<start>[0-9]+)-(?<end>[0-9]+|\\*)$", RegexOptions.IgnoreCase)]
    internal static partial Regex RangedAttribute();

    [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "Skipped a referral/continuation reference {Reference} (referrals are not chased)")]
    private static partial void LogReferenceSkipped(ILogger logger, string reference);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Read {Count} entries in {Pages} pages from {Server}")]
    private static partial void LogReadComplete(ILogger logger, int count, int pages, string server);
}
