using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Tests.Execution;

namespace AuthSplit.Core.Tests.Evidence.Packs;

/// <summary>
/// A planned organisation of two waves (hq, overseas) and a ledger as the state store writes it: the plan's
/// approval, then each wave's start, its entities' steps (each with the entity's state after it, in the
/// store's data shape) and its completion, the two waves' records interleaved so a pack must withhold the
/// other wave's. Packs are assembled by the same code the CLI runs.
/// </summary>
internal sealed class EvidenceFixture
{
    public static readonly DateTimeOffset Start = new(2026, 12, 1, 1, 0, 0, TimeSpan.Zero);

    private EvidenceFixture(PlanDocument plan, List<LedgerRecord> ledger)
    {
        Plan = plan;
        Ledger = ledger;
    }

    public PlanDocument Plan { get; }

    public string PlanId => Plan.PlanId!;

    public List<LedgerRecord> Ledger { get; }

    /// <summary>Entities of hq planned for removal; the last one ends <c>failed</c>, the rest <c>done</c>.</summary>
    public IReadOnlyList<PlannedEntity> HqRemovals => [.. Plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove)];

    public static EvidenceFixture Create()
    {
        var scenario = new ExecutionScenario()
            .Person("akira")
            .Person("yuki")
            .Person("hana")
            .Person("ken", target: false)
            .Person("partner", employeeType: "partner")
            .Person("emma", parent: "ou=sales," + ExecutionScenario.Base, country: "US")
            .Person("liam", parent: "ou=sales," + ExecutionScenario.Base, country: "GB");
        var plan = scenario.Plan;
        var ledger = new List<LedgerRecord>();
        var at = Start;
        void Add(LedgerKind kind, string? wave, string actor, string? data, string? entity = null, StepAction? step = null, StepOutcome? outcome = null, string planId = "")
        {
            at = at.AddSeconds(1.234567);
            ledger.Add(LedgerChain.Seal(new LedgerRecord
            {
                Sequence = ledger.Count + 1,
                At = LedgerChain.Truncate(at),
                Kind = kind,
                PlanId = planId,
                Wave = wave,
                EntityId = entity,
                Step = step,
                Outcome = outcome,
                Actor = actor,
                Node = "node-1",
                Data = data,
                PreviousHash = ledger.Count == 0 ? LedgerChain.Genesis : ledger[^1].Hash,
                Hash = string.Empty,
            }));
        }

        // In the executor's shape: verify-target-account names the target user, delete-legacy-entry the entry's DN.
        string StepData(string state, string? reason = null, string before = "null", string after = "null") =>
            $"{{\"attempt\":1,\"at\":\"{LedgerChain.FormatTime(at)}\",\"before\":{before},\"after\":{after},\"reason\":{(reason is null ? "null" : $"\"{reason}\"")},\"state\":\"{state}\"}}";
        static string Json(string name, string? value) => value is null ? "null" : $"{{\"{name}\":{System.Text.Json.JsonSerializer.Serialize(value)}}}";

        var planId = plan.PlanId!;
        Add(LedgerKind.Approval, null, "alice", "{\"approvedAt\":\"2026-12-01T01:00:00.000000Z\",\"note\":\"looks right\"}", planId: planId);
        Add(LedgerKind.WaveStarted, "hq", "bob", "{\"status\":\"running\"}", planId: planId);
        Add(LedgerKind.WaveStarted, "overseas", "bob", "{\"status\":\"running\"}", planId: planId);
        var hq = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        var overseas = plan.Entities.Where(e => e.Wave == "overseas" && e.Disposition == Disposition.Remove).ToList();
        for (var i = 0; i < Math.Max(hq.Count, overseas.Count); i++)
        {
            if (i < hq.Count)
            {
                var failed = i == hq.Count - 1;
                Add(LedgerKind.Step, "hq", "bob", StepData("in-progress", before: Json("id", hq[i].Match.TargetId), after: Json("id", hq[i].Match.TargetId)), hq[i].Id, StepAction.VerifyTargetAccount, StepOutcome.Done, planId);
                var dn = Json("dn", hq[i].Dn);
                Add(LedgerKind.Step, "hq", "bob", failed ? StepData("failed", "ldap-refused: insufficient access", before: dn) : StepData("done", before: dn), hq[i].Id, StepAction.DeleteLegacyEntry, failed ? StepOutcome.Failed : StepOutcome.Done, planId);
            }

            if (i < overseas.Count)
            {
                Add(LedgerKind.Step, "overseas", "bob", StepData("done", before: Json("dn", overseas[i].Dn)), overseas[i].Id, StepAction.DeleteLegacyEntry, StepOutcome.Done, planId);
            }
        }

        Add(LedgerKind.WaveCompleted, "hq", "bob", "{\"status\":\"completed\"}", planId: planId);
        Add(LedgerKind.WaveCompleted, "overseas", "bob", "{\"status\":\"completed\"}", planId: planId);
        return new EvidenceFixture(plan, ledger);
    }

    public WaveEvidenceInput Input(string wave, string? fingerprint) =>
        new(wave, PlanId, Plan,
            new WaveRun { PlanId = PlanId, Wave = wave, Status = WaveStatus.Completed, StartedBy = new ExecutionActor("bob", "node-1"), StartedAt = Start.AddMinutes(1), CompletedAt = Start.AddMinutes(5) },
            [new Approval(PlanId, "alice", Start, "looks right")],
            Ledger,
            Ledger.Where(r => r.Wave == wave || r.Kind == LedgerKind.Approval).Select(r => r.Sequence).ToHashSet(),
            Start.AddHours(1),
            "carol",
            "node-1",
            fingerprint);

    public Dictionary<string, byte[]> Pack(string wave, ECDsa? key) =>
        EvidencePack.Assemble(WaveEvidence.Build(Input(wave, key is null ? null : SigningKeys.Fingerprint(key))), CsvWriter.Line, key).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static string[] Lines(Dictionary<string, byte[]> pack, string file) =>
        Encoding.UTF8.GetString(pack[file]).TrimEnd('\n').Split('\n');

    public static void SetLines(Dictionary<string, byte[]> pack, string file, IEnumerable<string> lines) =>
        pack[file] = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    public static string Replace(string text, string from, string to) =>
        text.Contains(from, StringComparison.Ordinal) ? text.Replace(from, to, StringComparison.Ordinal) : throw new InvalidOperationException($"\"{from}\" is not in the text");

    public static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
}
