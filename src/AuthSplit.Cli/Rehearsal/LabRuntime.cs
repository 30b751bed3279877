using System.Text.Json;
using System.Text.Json.Serialization;
using AuthSplit.Core.Errors;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Cli.Rehearsal;

/// <summary>One server the lab started: who it is (PID, start time, boot), where it listens, where it logs.</summary>
public sealed record LabServerRecord(string Name, int Pid, long StartTicks, string BootId, string Url, int Port, string Log)
{
    [JsonIgnore]
    public ProcessIdentity Identity => new(Pid, StartTicks, BootId);
}

/// <summary>
/// <c>D/lab.json</c>: what <c>lab start</c> started, so that <c>lab status</c> and <c>lab stop</c> (other
/// processes, later) find exactly those servers and no other. Written owner-only and atomically, last, once
/// every server listens: a start that fails or is interrupted leaves none.
/// </summary>
public sealed record LabRuntime(int Version, string Directory, DateTimeOffset StartedAt, IReadOnlyList<LabServerRecord> Servers)
{
    public const string FileName = "lab.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string PathIn(string directory) => System.IO.Path.Combine(directory, FileName);

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static LabRuntime? Read(string directory)
    {
        var path = PathIn(directory);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<LabRuntime>(File.ReadAllBytes(path), Json)
                ?? throw new InputException("lab-runtime", "is empty", path);
        }
        catch (JsonException ex)
        {
            throw new InputException("lab-runtime", $"is not a lab's runtime file ({ex.Message}); if no lab runs there, delete it", path);
        }
    }
}
