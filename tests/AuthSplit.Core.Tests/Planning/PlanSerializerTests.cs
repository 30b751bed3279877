using System.Text;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning;

public sealed class PlanSerializerTests
{
    private static readonly System.Text.Json.JsonSerializerOptions CompactOptions = new(PlanSerializer.Options) { WriteIndented = false };

    private static PlanDocument SamplePlan() => new PlanningScenario()
        .Person("akira", employeeNumber: "E1")
        .Person("山田", mail: "yamada@example.com")
        .Person("min", country: "KR")
        .Target("t1", employeeId: "E1")
        .PlanAccepted();

    [Fact]
    public void A_written_plan_reads_back_equal_and_keeps_its_id()
    {
        var plan = SamplePlan();
        var bytes = PlanSerializer.Serialize(plan);

        var read = PlanSerializer.Deserialize(bytes, "plan.json");

        read.PlanId.Should().Be(plan.PlanId);
        PlanSerializer.Serialize(read).Should().Equal(bytes);
    }

    [Fact]
    public async Task Writing_while_hashing_gives_the_same_file_and_id_as_hashing_first()
    {
        var plan = SamplePlan();
        using var destination = new MemoryStream();
        using var scratch = new MemoryStream();

        var written = await PlanSerializer.WriteWithPlanIdAsync(plan with { PlanId = null }, destination, scratch, CancellationToken.None);

        written.PlanId.Should().Be(plan.PlanId);
        destination.ToArray().Should().Equal(PlanSerializer.Serialize(plan));
    }

    [Fact]
    public async Task A_plan_larger_than_one_parallel_window_is_written_in_order_and_hashed_as_a_whole()
    {
        // The writer serialises windows of 4,096 entities in parallel parts; 10,000 spans three
        // windows with a ragged last one.
        var scenario = new PlanningScenario();
        for (var i = 0; i < 10_000; i++)
        {
            scenario.Person($"p{i:D5}", employeeNumber: $"E{i}");
        }

        var plan = scenario.PlanAccepted();
        using var destination = new MemoryStream();
        using var scratch = new MemoryStream();

        var written = await PlanSerializer.WriteWithPlanIdAsync(plan with { PlanId = null }, destination, scratch, CancellationToken.None);

        written.PlanId.Should().Be(PlanSerializer.ComputePlanId(plan), "the id is the hash of the whole canonical plan");
        destination.ToArray().Should().Equal(PlanSerializer.Serialize(plan), "the sequential writer gives the same bytes");
        PlanSerializer.Deserialize(destination.ToArray(), "plan.json").Entities.Select(e => e.Id).Should().Equal(plan.Entities.Select(e => e.Id));
    }

    [Fact]
    public void The_plan_file_is_readable_utf8_with_lf_line_ends()
    {
        var text = Encoding.UTF8.GetString(PlanSerializer.Serialize(SamplePlan()));

        text.Should().Contain("uid=山田").And.NotContain("\r").And.EndWith("}\n");
        text.Should().Contain("\"disposition\":\"blocked\"").And.Contain("\"action\":\"stop-password-sync\"");
        text.Split('\n').Count(l => l.StartsWith("    {\"id\":", StringComparison.Ordinal)).Should().Be(3, "each entity is one line, so a diff shows whole entities");
    }

    [Fact]
    public void An_edited_plan_is_refused_as_tampered()
    {
        var text = Encoding.UTF8.GetString(PlanSerializer.Serialize(SamplePlan()));
        var edited = text.Replace("\"disposition\":\"blocked\"", "\"disposition\":\"remove\"", StringComparison.Ordinal);
        edited.Should().NotBe(text);

        var act = () => PlanSerializer.Deserialize(Encoding.UTF8.GetBytes(edited), "plan.json");

        act.Should().Throw<InputException>().Where(e => e.Code == "plan-tampered" && e.Message.StartsWith("plan.json: ", StringComparison.Ordinal));
    }

    [Fact]
    public void Reformatting_a_plan_does_not_change_its_identity()
    {
        var plan = SamplePlan();
        var compact = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(plan, CompactOptions);

        PlanSerializer.Deserialize(compact, "plan.json").PlanId.Should().Be(plan.PlanId);
    }

    [Theory]
    [InlineData("{", "plan-invalid")]
    [InlineData("{\"formatVersion\": 99}", "plan-invalid")]
    [InlineData("[]", "plan-invalid")]
    public void A_file_that_is_not_a_plan_is_bad_input(string json, string code)
    {
        var act = () => PlanSerializer.Deserialize(Encoding.UTF8.GetBytes(json), "x.json");

        act.Should().Throw<InputException>().Which.Code.Should().Be(code);
    }

    [Fact]
    public void An_unknown_property_is_refused_rather_than_ignored()
    {
        var text = Encoding.UTF8.GetString(PlanSerializer.Serialize(SamplePlan()));
        var edited = text.Replace("\"formatVersion\": 1,", "\"formatVersion\": 1, \"approvedBy\": \"me\",", StringComparison.Ordinal);

        var act = () => PlanSerializer.Deserialize(Encoding.UTF8.GetBytes(edited), "plan.json");

        act.Should().Throw<InputException>().Which.Code.Should().Be("plan-invalid");
    }
}
