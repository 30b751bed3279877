using System.Security.Cryptography;
using System.Text.Json;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.State.Storage;

namespace AuthSplit.State.Backups;

/// <summary>
/// A backup's canonical plaintext: compact UTF-8 JSON, properties in a fixed order, attributes sorted by
/// name (ordinal), each attribute's values in the directory's order as base64 (binary values such as
/// <c>objectGUID</c> and <c>jpegPhoto</c> have no text form), groups in the order given. The backup's
/// <c>sha256:</c> is over exactly these bytes.
/// </summary>
internal static class BackupDocument
{
    public const string Format = "authsplit-backup/1";

    public static byte[] Write(EntryBackup backup)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteString("planId", backup.PlanId);
            writer.WriteString("wave", backup.Wave);
            writer.WriteString("entityId", backup.EntityId);
            writer.WriteString("takenAt", Sql.Time(backup.TakenAt));
            writer.WriteString("dn", backup.Entry.Dn);
            writer.WriteStartArray("attributes");
            foreach (var (name, values) in backup.Entry.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WriteStartArray("values");
                foreach (var value in values)
                {
                    writer.WriteBase64StringValue(value);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("groups");
            foreach (var group in backup.Groups)
            {
                writer.WriteStartObject();
                writer.WriteString("groupDn", group.GroupDn);
                writer.WriteString("groupId", group.GroupId);
                writer.WriteString("attribute", group.Attribute);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static string Hash(byte[] plaintext) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(plaintext));

    public static EntryBackup Read(byte[] plaintext)
    {
        using var document = JsonDocument.Parse(plaintext);
        var root = document.RootElement;
        if (root.GetProperty("format").GetString() != Format)
        {
            throw new InvalidDataException($"a backup in an unknown format ({root.GetProperty("format").GetString()})");
        }

        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(StringComparer.OrdinalIgnoreCase);
        foreach (var attribute in root.GetProperty("attributes").EnumerateArray())
        {
            attributes[attribute.GetProperty("name").GetString()!] = [.. attribute.GetProperty("values").EnumerateArray().Select(v => v.GetBytesFromBase64())];
        }

        return new EntryBackup
        {
            PlanId = root.GetProperty("planId").GetString()!,
            Wave = root.GetProperty("wave").GetString()!,
            EntityId = root.GetProperty("entityId").GetString()!,
            TakenAt = Sql.ParseTime(root.GetProperty("takenAt").GetString()!),
            Entry = new DirectoryEntry(root.GetProperty("dn").GetString()!, attributes),
            Groups = [.. root.GetProperty("groups").EnumerateArray().Select(g => new GroupListing(
                g.GetProperty("groupDn").GetString()!, g.GetProperty("groupId").GetString(), g.GetProperty("attribute").GetString()!))],
            Sha256 = Hash(plaintext),
        };
    }
}
