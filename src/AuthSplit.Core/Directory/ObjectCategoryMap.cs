using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuthSplit.Core.Errors;

namespace AuthSplit.Core.Directory;

/// <summary>One classSchema object of Active Directory, as far as filters need it.</summary>
public sealed record ClassCategory(
    [property: JsonPropertyName("lDAPDisplayName")] string LdapDisplayName,
    [property: JsonPropertyName("cn")] string Cn,
    [property: JsonPropertyName("defaultObjectCategory")] string DefaultObjectCategory);

/// <summary>
/// Active Directory's class → defaultObjectCategory map. AD stores <c>objectCategory</c> as the DN of a
/// class's schema object and, when it evaluates <c>(objectCategory=person)</c>, replaces the short name
/// with the defaultObjectCategory of the classSchema object whose lDAPDisplayName it is (case-insensitive;
/// a class's cn, such as <c>Organizational-Unit</c>, is not resolved: Samba's DC answers such a filter
/// with nothing, and so does this map):
/// <c>user</c> and <c>person</c> both mean <c>CN=Person,CN=Schema,CN=Configuration,…</c>. The map comes
/// from the live schema partition, from the copy saved beside a snapshot, or from AD's default schema.
/// </summary>
public sealed class ObjectCategoryMap
{
    /// <summary>Read from the directory's schema partition during this run.</summary>
    public const string LiveOrigin = "live";

    /// <summary>Read from the schema file saved beside the snapshot.</summary>
    public const string SavedOrigin = "saved";

    /// <summary>AD's default classes, placed under the forest root derived from the base DN.</summary>
    public const string DefaultOrigin = "ad-default";

    public const string FileFormat = "authsplit-ad-object-categories/1";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly Dictionary<string, string> _byDisplayName;

    private ObjectCategoryMap(string origin, string schemaNamingContext, IReadOnlyList<ClassCategory> classes)
    {
        Origin = origin;
        SchemaNamingContext = schemaNamingContext;
        Classes = classes;
        _byDisplayName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var c in classes)
        {
            _byDisplayName.TryAdd(c.LdapDisplayName, c.DefaultObjectCategory);
        }

        Sha256 = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical())));
    }

    /// <summary><see cref="LiveOrigin"/>, <see cref="SavedOrigin"/> or <see cref="DefaultOrigin"/>.</summary>
    public string Origin { get; }

    public string SchemaNamingContext { get; }

    /// <summary>The classes, ordered by lDAPDisplayName.</summary>
    public IReadOnlyList<ClassCategory> Classes { get; }

    /// <summary>The hash of the map's content (not of its origin), so the plan changes when the map does.</summary>
    public string Sha256 { get; }

    public static ObjectCategoryMap Create(string origin, string schemaNamingContext, IEnumerable<ClassCategory> classes) =>
        new(origin, schemaNamingContext, [.. classes.OrderBy(c => c.LdapDisplayName, StringComparer.Ordinal).ThenBy(c => c.Cn, StringComparer.Ordinal)]);

    /// <summary>
    /// AD's default schema under the forest root taken from <paramref name="baseDn"/>'s trailing DC=
    /// components. That assumes the forest root domain is the domain the base DN is in (a single-domain
    /// forest, by far the most common); in a child domain a saved or live schema must be used instead.
    /// </summary>
    public static ObjectCategoryMap ActiveDirectoryDefault(DistinguishedName baseDn)
    {
        ArgumentNullException.ThrowIfNull(baseDn);
        var schema = SchemaNamingContextFor(baseDn);
        var classes = new List<ClassCategory>();
        foreach (var line in ActiveDirectoryDefaultClasses.Table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            classes.Add(new ClassCategory(parts[0], parts[1], $"CN={parts[2]},{schema}"));
        }

        return Create(DefaultOrigin, schema, classes);
    }

    /// <summary><c>CN=Schema,CN=Configuration,</c> followed by the DC= components that end <paramref name="baseDn"/>.</summary>
    public static string SchemaNamingContextFor(DistinguishedName baseDn)
    {
        ArgumentNullException.ThrowIfNull(baseDn);
        var domain = baseDn.Rdns
            .Reverse()
            .TakeWhile(r => r.Parts.Count == 1 && string.Equals(r.Parts[0].Type, "dc", StringComparison.OrdinalIgnoreCase))
            .Reverse()
            .Select(r => "DC=" + DistinguishedName.EscapeValue(r.Parts[0].Value));
        return string.Join(',', domain.Prepend("CN=Configuration").Prepend("CN=Schema"));
    }

    /// <summary>The defaultObjectCategory DN of the class whose lDAPDisplayName is <paramref name="name"/>.</summary>
    public bool TryResolve(string name, [NotNullWhen(true)] out string? category) => _byDisplayName.TryGetValue(name, out category);

    public ObjectCategoryMap WithOrigin(string origin) => new(origin, SchemaNamingContext, Classes);

    /// <summary>Writes the map as the schema file saved beside a snapshot.</summary>
    public async Task WriteAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await JsonSerializer.SerializeAsync(stream, new SchemaFile(FileFormat, SchemaNamingContext, Classes), Json, cancellationToken);
    }

    /// <summary>Reads a schema file written by <see cref="WriteAsync"/>; a fault is an <see cref="InputException"/> naming the file.</summary>
    public static ObjectCategoryMap Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        SchemaFile? file;
        try
        {
            file = JsonSerializer.Deserialize<SchemaFile>(File.ReadAllBytes(path), Json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("source-schema", $"cannot read the schema file: {ex.Message}", path);
        }
        catch (JsonException ex)
        {
            throw new InputException("source-schema", $"not a schema file: {ex.Message}", path);
        }

        if (file is null || file.Format != FileFormat || file.Classes is null || string.IsNullOrWhiteSpace(file.SchemaNamingContext)
            || file.Classes.Any(c => c is null || string.IsNullOrWhiteSpace(c.LdapDisplayName) || string.IsNullOrWhiteSpace(c.Cn) || !DistinguishedName.TryParse(c.DefaultObjectCategory ?? string.Empty, out _, out _)))
        {
            throw new InputException("source-schema", $"not a schema file of format {FileFormat} (schemaNamingContext and classes with lDAPDisplayName, cn and a defaultObjectCategory DN)", path);
        }

        return Create(SavedOrigin, file.SchemaNamingContext, file.Classes);
    }

    private string Canonical()
    {
        var builder = new StringBuilder();
        builder.Append(SchemaNamingContext).Append('\n');
        foreach (var c in Classes)
        {
            builder.Append(c.LdapDisplayName).Append('\t').Append(c.Cn).Append('\t').Append(c.DefaultObjectCategory).Append('\n');
        }

        return builder.ToString();
    }

    private sealed record SchemaFile(string Format, string SchemaNamingContext, IReadOnlyList<ClassCategory> Classes);
}
