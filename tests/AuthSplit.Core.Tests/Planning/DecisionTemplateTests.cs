using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning;

public sealed class DecisionTemplateTests
{
    private static PlanningScenario Blocked() => new PlanningScenario()
        .Person("mari", mail: "m@example.com")
        .Person("leaver", mail: "gone@example.com")
        .Person("min", employeeNumber: "E9", country: "KR")
        .Person("twin1", mail: "shared@example.com")
        .Person("twin2", mail: "SHARED@example.com")
        .Entry("uid=ghost,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = ["inetOrgPerson"], ["uid"] = ["ghost"] })
        .Target("a", mail: "m@example.com")
        .Target("b", mail: "M@example.com")
        .Target("t9", employeeId: "E9")
        .Target("t-shared", mail: "shared@example.com");

    [Fact]
    public void An_untouched_template_is_refused_by_the_decisions_parser()
    {
        var plan = Blocked().PlanAccepted();

        var template = DecisionTemplate.Write(plan, DecisionTemplate.Undecided(plan.Entities));

        var parse = () => DecisionFileParser.Parse(template, "decisions.json");
        parse.Should().Throw<InputException>().WithMessage("*decisions[0].decision is required*");
    }

    [Fact]
    public void A_filled_in_template_is_accepted_and_unblocks_every_entity()
    {
        var plan = Blocked().PlanAccepted();
        var blocked = DecisionTemplate.Undecided(plan.Entities);
        blocked.Should().HaveCount(6);
        var template = DecisionTemplate.Write(plan, blocked);
        template.Should().Contain("uid=mari,ou=hq").And.Contain("use-target with targetId one of a, b").And.Contain("assign-wave with wave one of hq, overseas");

        // Fill it in as an engineer would: a decision per entry, the field it needs, and drop the other.
        var filled = template.Replace("\"reason\": \"\"", "\"reason\": \"checked with HR\"", StringComparison.Ordinal).Replace("\"decidedBy\": \"\"", "\"decidedBy\": \"engineer@example.com\"", StringComparison.Ordinal);
        foreach (var entity in blocked)
        {
            var (decision, targetId, wave) = entity.Id == PlanningScenario.IdFor("mari") ? ("use-target", "b", null)
                : entity.Id == PlanningScenario.IdFor("leaver") ? ("remove", null, null)
                : entity.Id == PlanningScenario.IdFor("min") ? ("assign-wave", null, "overseas")
                : entity.Id == PlanningScenario.IdFor("twin1") ? ("use-target", "t-shared", null)
                : ("keep", (string?)null, (string?)null);
            filled = ReplaceFirst(filled, "\"decision\": \"\"", $"\"decision\": \"{decision}\"");
            var at = filled.IndexOf($"\"decision\": \"{decision}\"", StringComparison.Ordinal);
            if (entity.Blockers.Any(b => b.Code is BlockerCode.AmbiguousTargetMatch or BlockerCode.NoTargetAccount or BlockerCode.TargetShared))
            {
                filled = ReplaceFirst(filled, "      \"targetId\": \"\",\n", targetId is null ? "" : $"      \"targetId\": \"{targetId}\",\n", at);
            }

            if (entity.Blockers.Any(b => b.Code == BlockerCode.MultipleWaves))
            {
                filled = ReplaceFirst(filled, "      \"wave\": \"\",\n", wave is null ? "" : $"      \"wave\": \"{wave}\",\n", at);
            }
        }

        var decisions = DecisionFileParser.Parse(filled, "decisions.json");

        decisions.Should().HaveCount(6);
        var scenario = Blocked();
        foreach (var decision in decisions)
        {
            scenario.Decide(decision);
        }

        var decided = scenario.PlanAccepted();
        decided.Entities.Should().NotContain(e => e.Disposition == Disposition.Blocked);
        decided.Decisions.Should().OnlyContain(d => d.Status == DecisionStatus.Applied);
    }

    [Fact]
    public void Directory_text_in_a_template_comment_cannot_write_json()
    {
        var plan = new PlanningScenario()
            .Entry("uid=x\n    {\"entityId\": \"victim\"\\, \"decision\": \"remove\"}\u001b[2J,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = ["inetOrgPerson"], ["uid"] = ["x"], ["entryUUID"] = [PlanningScenario.IdFor("x")] })
            .Target("a", mail: "m@example.com")
            .PlanAccepted();

        var template = DecisionTemplate.Write(plan, DecisionTemplate.Undecided(plan.Entities));

        template.Should().NotContain("\u001b").And.Contain("uid=x\\x0A");
        template.Split('\n').Where(l => l.Contains("victim", StringComparison.Ordinal)).Should().OnlyContain(l => l.TrimStart().StartsWith("//", StringComparison.Ordinal));
    }

    [Fact]
    public void A_plan_without_blocked_entities_gives_an_empty_template_the_parser_accepts()
    {
        var plan = new PlanningScenario().Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1").PlanAccepted();

        var template = DecisionTemplate.Write(plan, DecisionTemplate.Undecided(plan.Entities));

        DecisionFileParser.Parse(template, "decisions.json").Should().BeEmpty();
    }

    private static string ReplaceFirst(string text, string find, string replacement, int from = 0)
    {
        var at = text.IndexOf(find, from, StringComparison.Ordinal);
        at.Should().BeGreaterThanOrEqualTo(0, $"the template must hold {find}");
        return string.Concat(text.AsSpan(0, at), replacement, text.AsSpan(at + find.Length));
    }
}
