using System.DirectoryServices.Protocols;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Ldap;

/// <summary>
/// Reads Active Directory's class → defaultObjectCategory map from the schema partition (the root DSE's
/// schemaNamingContext, its classSchema objects' lDAPDisplayName, cn and defaultObjectCategory), so that
/// <c>objectCategory=person</c> is evaluated against the directory's own schema.
/// </summary>
public static partial class ActiveDirectorySchemaReader
{
    private static readonly string[] ClassAttributes = ["lDAPDisplayName", "cn", "defaultObjectCategory"];

    public static async Task<ObjectCategoryMap> ReadAsync(SourceOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var settings = LdapConnectionSettings.From(options);
        using var session = await LdapSession.OpenAsync(settings, logger, cancellationToken);
        var rootDse = await session.SearchAsync(new SearchRequest(string.Empty, "(objectClass=*)", SearchScope.Base, "schemaNamingContext"), cancellationToken);
        var schemaNamingContext = rootDse.Entries.Cast<SearchResultEntry>().SingleOrDefault()?.Attributes["schemaNamingContext"]?.GetValues(typeof(string)).Cast<string>().FirstOrDefault()
            ?? throw new ExternalSystemException(settings.Server, "the root DSE names no schemaNamingContext; is Source:Dialect ActiveDirectory right for this server?");

        var classes = new List<ClassCategory>();
        var paging = new PageResultRequestControl(500) { IsCritical = true };
        var request = new SearchRequest(schemaNamingContext, "(objectClass=classSchema)", SearchScope.OneLevel, ClassAttributes);
        request.Controls.Add(paging);
        while (true)
        {
            var response = await session.SearchAsync(request, cancellationToken);
            foreach (SearchResultEntry entry in response.Entries)
            {
                var name = Single(entry, "lDAPDisplayName");
                var cn = Single(entry, "cn");
                var category = Single(entry, "defaultObjectCategory");
                if (name is not null && cn is not null && category is not null)
                {
                    classes.Add(new ClassCategory(name, cn, category));
                }
            }

            var pageResponse = response.Controls.OfType<PageResultResponseControl>().FirstOrDefault()
                ?? throw new ExternalSystemException(settings.Server, "the server answered the schema read without a paged-results control; the class list cannot be proven complete");
            if (pageResponse.Cookie is null || pageResponse.Cookie.Length == 0)
            {
                break;
            }

            paging.Cookie = pageResponse.Cookie;
        }

        if (classes.Count == 0)
        {
            throw new ExternalSystemException(settings.Server, $"no classSchema objects could be read under {schemaNamingContext}: the bind account must be able to read the schema partition");
        }

        LogSchemaRead(logger, classes.Count, schemaNamingContext);
        return ObjectCategoryMap.Create(ObjectCategoryMap.LiveOrigin, schemaNamingContext, classes);
    }

    private static string? Single(SearchResultEntry entry, string attribute) =>
        entry.Attributes[attribute]?.GetValues(typeof(string)).Cast<string>().FirstOrDefault();

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Read {Count} classes (objectCategory names) from the schema at {SchemaNamingContext}")]
    private static partial void LogSchemaRead(ILogger logger, int count, string schemaNamingContext);
}
