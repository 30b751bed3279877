using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Hashing;

namespace AuthSplit.Core.Planning.Format;

/// <summary>
/// Writes and reads plan files. The file is UTF-8 JSON with LF line ends and non-ASCII kept readable:
/// the header indented, then one entity per line, so a reviewer's diff shows whole entities and a plan
/// of 100,000 entities stays small. The plan id is the SHA-256 of the compact serialisation of the
/// document without its <c>planId</c>: re-formatting keeps the id, editing any value breaks it. Both
/// the file and the hash are streamed, so a large plan is never held in memory as text.
/// </summary>
public static class PlanSerializer
{
    private const string EntitiesPlaceholder = "\"entities\": []";
    private static readonly JsonSerializerOptions Indented = Create(writeIndented: true);
    private static readonly JsonSerializerOptions Compact = Create(writeIndented: false);
    private static readonly byte[] EntitySeparator = ",\n    "u8.ToArray();

    public static JsonSerializerOptions Options => Indented;

    public static async Task WriteAsync(PlanDocument plan, Stream stream, CancellationToken cancellationToken)
    {
        var (prefix, suffix) = IndentedHeader(plan);
        await stream.WriteAsync(prefix, cancellationToken);
        for (var i = 0; i < plan.Entities.Count; i++)
        {
            await stream.WriteAsync(i == 0 ? "\n    "u8.ToArray() : EntitySeparator, cancellationToken);
            await JsonSerializer.SerializeAsync(stream, plan.Entities[i], Compact, cancellationToken);
        }

        await stream.WriteAsync(plan.Entities.Count > 0 ? "\n  ]"u8.ToArray() : "]"u8.ToArray(), cancellationToken);
        await stream.WriteAsync(suffix, cancellationToken);
    }

    /// <summary>
    /// Gives <paramref name="plan"/> its id and writes it, serialising each entity only once: the
    /// entities go to <paramref name="scratch"/> (one per line) while their canonical bytes are hashed,
    /// then the header with the id and the entity lines go to <paramref name="destination"/>. For large
    /// plans this halves the work of <see cref="WithPlanId"/> followed by <see cref="WriteAsync"/>.
    /// </summary>
    public static async Task<PlanDocument> WriteWithPlanIdAsync(PlanDocument plan, Stream destination, Stream scratch, CancellationToken cancellationToken)
    {
        const int FlushAt = 1 << 16;
        const int WindowSize = 4096;
        var unidentified = plan with { PlanId = null };
        var (compactPrefix, compactSuffix) = Split(JsonSerializer.Serialize(unidentified with { Entities = [] }, Compact), "\"entities\":[]");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(compactPrefix + "\"entities\":["));

        // Entities are serialised in parallel, a window at a time, each part into its own buffer; the
        // parts are then hashed and written in order, so the bytes do not depend on the parallelism.
        // The scratch file receives the entity lines exactly as the plan file holds them (compact JSON
        // has no raw line breaks), so the second pass is a plain copy.
        var parts = Math.Max(1, Environment.ProcessorCount);
        var serializers = new EntitySerializer[parts];
        for (var p = 0; p < parts; p++)
        {
            serializers[p] = new EntitySerializer(Compact);
        }

        var buffer = new ArrayBufferWriter<byte>(FlushAt * 2);
        var written = 0;
        try
        {
            for (var windowStart = 0; windowStart < plan.Entities.Count; windowStart += WindowSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var windowEnd = Math.Min(plan.Entities.Count, windowStart + WindowSize);
                var perPart = (windowEnd - windowStart + parts - 1) / parts;
                Parallel.For(0, parts, p => serializers[p].Serialize(plan.Entities, windowStart + (p * perPart), Math.Min(windowEnd, windowStart + ((p + 1) * perPart))));
                foreach (var serializer in serializers)
                {
                    foreach (var entity in serializer.Entities)
                    {
                        buffer.Write(written == 0 ? "\n    "u8 : EntitySeparator);
                        if (written > 0)
                        {
                            hash.AppendData(","u8);
                        }

                        hash.AppendData(entity.Span);
                        buffer.Write(entity.Span);
                        written++;
                    }

                    if (buffer.WrittenCount >= FlushAt)
                    {
                        await scratch.WriteAsync(buffer.WrittenMemory, cancellationToken);
                        buffer.ResetWrittenCount();
                    }
                }
            }
        }
        finally
        {
            foreach (var serializer in serializers)
            {
                serializer.Dispose();
            }
        }

        await scratch.WriteAsync(buffer.WrittenMemory, cancellationToken);
        hash.AppendData(Encoding.UTF8.GetBytes("]" + compactSuffix));
        var identified = plan with { PlanId = "sha256:" + Convert.ToHexStringLower(hash.GetCurrentHash()) };
        var (prefix, suffix) = IndentedHeader(identified);
        await destination.WriteAsync(prefix, cancellationToken);
        scratch.Position = 0;
        await scratch.CopyToAsync(destination, 1 << 16, cancellationToken);
        await destination.WriteAsync(plan.Entities.Count > 0 ? "\n  ]"u8.ToArray() : "]"u8.ToArray(), cancellationToken);
        await destination.WriteAsync(suffix, cancellationToken);
        return identified;
    }

    private static (byte[] Prefix, byte[] Suffix) IndentedHeader(PlanDocument plan)
    {
        var (prefix, suffix) = Split(JsonSerializer.Serialize(plan with { Entities = [] }, Indented), EntitiesPlaceholder);
        return (Encoding.UTF8.GetBytes(prefix + "\"entities\": ["), Encoding.UTF8.GetBytes(suffix + "\n"));
    }

    private static (string Prefix, string Suffix) Split(string header, string placeholder)
    {
        var split = header.IndexOf(placeholder, StringComparison.Ordinal);
        if (split < 0 || header.IndexOf(placeholder, split + 1, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException("the plan header must hold the entities placeholder exactly once");
        }

        return (header[..split], header[(split + placeholder.Length)..]);
    }

    public static byte[] Serialize(PlanDocument plan)
    {
        using var buffer = new MemoryStream();
        WriteAsync(plan, buffer, CancellationToken.None).GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    public static string ComputePlanId(PlanDocument plan)
    {
        using var hashing = new HashingWriteStream(Stream.Null);
        JsonSerializer.Serialize(hashing, plan with { PlanId = null }, Compact);
        return hashing.Sha256();
    }

    /// <summary>The config input's hash: the planning-relevant settings in canonical (compact) JSON.</summary>
    public static string HashSettings(PlanSettings settings) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(settings, Compact)));

    public static PlanDocument WithPlanId(PlanDocument plan) => plan with { PlanId = ComputePlanId(plan) };

    /// <summary>Reads a plan and proves it is the one that was written: format known, id matching content.</summary>
    public static PlanDocument Deserialize(ReadOnlySpan<byte> json, string path)
    {
        PlanDocument? plan;
        try
        {
            plan = JsonSerializer.Deserialize<PlanDocument>(json, Indented);
        }
        catch (JsonException ex)
        {
            throw new InputException("plan-invalid", $"not a plan file this version understands: {ex.Message}", path, (int?)(ex.LineNumber + 1));
        }

        return Verify(plan, path);
    }

    public static async Task<PlanDocument> ReadAsync(Stream stream, string path, CancellationToken cancellationToken)
    {
        PlanDocument? plan;
        try
        {
            plan = await JsonSerializer.DeserializeAsync<PlanDocument>(stream, Indented, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new InputException("plan-invalid", $"not a plan file this version understands: {ex.Message}", path, (int?)(ex.LineNumber + 1));
        }

        return Verify(plan, path);
    }

    private static PlanDocument Verify(PlanDocument? plan, string path)
    {
        if (plan is null)
        {
            throw new InputException("plan-invalid", "the file holds no plan", path);
        }

        if (plan.FormatVersion != PlanDocument.CurrentFormatVersion)
        {
            throw new InputException("plan-format", $"formatVersion {plan.FormatVersion} is not supported (this version reads {PlanDocument.CurrentFormatVersion})", path);
        }

        var actual = ComputePlanId(plan);
        if (!string.Equals(plan.PlanId, actual, StringComparison.Ordinal))
        {
            throw new InputException("plan-tampered", $"planId {plan.PlanId ?? "(none)"} does not match the plan's content ({actual}): the file was changed after it was made. Re-run authsplit plan and have the new plan reviewed", path);
        }

        return plan;
    }

    private static JsonSerializerOptions Create(bool writeIndented)
    {
        var options = new JsonSerializerOptions
        {
            WriteIndented = writeIndented,
            NewLine = "\n",
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Serialises a range of entities into one reused buffer, remembering where each one ends.</summary>
    private sealed class EntitySerializer(JsonSerializerOptions options) : IDisposable
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
        private readonly Utf8JsonWriter _writer = new(Stream.Null, new JsonWriterOptions { Encoder = options.Encoder, Indented = false, SkipValidation = true });
        private readonly List<int> _ends = [];

        public IEnumerable<ReadOnlyMemory<byte>> Entities
        {
            get
            {
                var start = 0;
                foreach (var end in _ends)
                {
                    yield return _buffer.WrittenMemory[start..end];
                    start = end;
                }
            }
        }

        public void Serialize(IReadOnlyList<PlannedEntity> entities, int from, int to)
        {
            _buffer.ResetWrittenCount();
            _ends.Clear();
            for (var i = from; i < to; i++)
            {
                _writer.Reset(_buffer);
                JsonSerializer.Serialize(_writer, entities[i], options);
                _writer.Flush();
                _ends.Add(_buffer.WrittenCount);
            }
        }

        public void Dispose() => _writer.Dispose();
    }
}
