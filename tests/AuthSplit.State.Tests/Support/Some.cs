using System.Text;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.State.Tests.Support;

/// <summary>Records for the store's tests, with the fields that matter named and the rest filled in.</summary>
public static class Some
{
    public static readonly DateTimeOffset Start = new(2026, 11, 30, 22, 0, 0, TimeSpan.Zero);

    public static readonly ExecutionActor Actor = new("alice", "node-1");

    public static EntityProgress Entity(string planId, string wave, string entityId, EntityState state = EntityState.Pending, int attempts = 0, StepAction? lastStep = null) => new()
    {
        PlanId = planId,
        Wave = wave,
        EntityId = entityId,
        Dn = $"uid={entityId},ou=people,dc=example,dc=org",
        Kind = EntityKind.Person,
        State = state,
        LastStep = lastStep,
        Attempts = attempts,
        UpdatedAt = Start,
    };

    public static StepRecord Step(string planId, string wave, string entityId, StepAction step, StepOutcome outcome = StepOutcome.Done, int attempt = 1, ExecutionActor? actor = null) => new()
    {
        PlanId = planId,
        Wave = wave,
        EntityId = entityId,
        Step = step,
        Outcome = outcome,
        Attempt = attempt,
        Before = """{"dn":"uid=x,ou=people,dc=example,dc=org"}""",
        After = outcome == StepOutcome.Done ? """{"absent":true}""" : null,
        Reason = outcome is StepOutcome.Done or StepOutcome.AlreadyDone ? null : "stale-moved: the entry moved",
        Actor = actor ?? Actor,
        At = Start.AddSeconds(attempt),
    };

    public static WaveRun Wave(string planId, string wave, WaveStatus status, DateTimeOffset? startedAt = null) => new()
    {
        PlanId = planId,
        Wave = wave,
        Status = status,
        StartedBy = Actor,
        StartedAt = startedAt ?? Start,
        CompletedAt = status == WaveStatus.Completed ? (startedAt ?? Start).AddHours(1) : null,
        Reason = status == WaveStatus.Interrupted ? "interrupted: SIGTERM" : null,
    };

    /// <summary>A person with text, binary and multi-valued attributes; <paramref name="marker"/> appears in the DN and in a value.</summary>
    public static EntryBackup Backup(string planId, string entityId, string marker = "Zyxwvut-Marker")
    {
        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(StringComparer.OrdinalIgnoreCase)
        {
            ["objectClass"] = [.. new[] { "top", "person", "inetOrgPerson" }.Select(Encoding.UTF8.GetBytes)],
            ["cn"] = [Encoding.UTF8.GetBytes(marker + " Müller")],
            ["mail"] = [Encoding.UTF8.GetBytes(marker.ToLowerInvariant() + "@example.org"), Encoding.UTF8.GetBytes("second@example.org")],
            ["objectGUID"] = [[0x00, 0xFF, 0x10, 0x80, 0x7F, 0x00, 0x01, 0x02, 0xFE, 0xFD, 0x00, 0x00, 0x42, 0x43, 0x44, 0x45]],
            ["createTimestamp"] = [Encoding.UTF8.GetBytes("20240101000000Z")],
        };
        return new EntryBackup
        {
            PlanId = planId,
            Wave = "wave-1",
            EntityId = entityId,
            Entry = new DirectoryEntry($"uid={marker},ou=people,dc=example,dc=org", attributes),
            Groups =
            [
                new GroupListing("cn=staff,ou=groups,dc=example,dc=org", "g-staff", "member"),
                new GroupListing("cn=vpn,ou=groups,dc=example,dc=org", null, "memberUid"),
            ],
            TakenAt = Start.AddMinutes(5),
        };
    }

    public static string PlanId(int n = 1) => "sha256:" + n.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);
}
