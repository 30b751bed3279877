using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Decisions;

namespace AuthSplit.Core.Tests.Planning;

public sealed class DecisionFileParserTests
{
    [Fact]
    public void Parses_every_decision_kind_and_lower_cases_ids()
    {
        const string json = """
            { "formatVersion": 1, "decisions": [
              { "entityId": "ABC", "decision": "keep", "reason": "r", "decidedBy": "a" },
              { "entityId": "d", "decision": "assign-wave", "wave": "hq", "reason": "r", "decidedBy": "a" },
              { "entityId": "e", "decision": "use-target", "targetId": "t", "reason": "r", "decidedBy": "a" },
              { "entityId": "f", "decision": "remove", "reason": "r", "decidedBy": "a" },
              { "entityId": "crm", "decision": "except-system", "reason": "vendor late", "decidedBy": "ciso" },
              { "entityId": "0b9d6b3a-1c2e-4f5a-9a8b-7c6d5e4f3a2b", "decision": "accept-group-loss", "reason": "retired", "decidedBy": "it" }
            ] }
            """;

        var decisions = DecisionFileParser.Parse(json, "d.json");

        decisions.Select(d => d.Kind).Should().Equal(DecisionKind.Keep, DecisionKind.AssignWave, DecisionKind.UseTarget, DecisionKind.Remove, DecisionKind.ExceptSystem, DecisionKind.AcceptGroupLoss);
        decisions[4].Name.Should().Be("except-system");
        decisions[5].Name.Should().Be("accept-group-loss");
        decisions[0].EntityId.Should().Be("abc");
    }

    [Theory]
    [InlineData("{ \"decisions\": [ { \"entityId\": \"a\", \"decision\": \"delete\", \"reason\": \"r\", \"decidedBy\": \"x\" } ] }", "decisions[0].decision")]
    [InlineData("{ \"decisions\": [ { \"entityId\": \"a\", \"decision\": \"keep\", \"decidedBy\": \"x\" } ] }", "decisions[0].reason is required")]
    [InlineData("{ \"decisions\": [ { \"entityId\": \"a\", \"decision\": \"assign-wave\", \"reason\": \"r\", \"decidedBy\": \"x\" } ] }", "assign-wave needs")]
    [InlineData("{ \"decisions\": [ { \"entityId\": \"a\", \"decision\": \"keep\", \"reason\": \"r\", \"decidedBy\": \"x\" }, { \"entityId\": \"A\", \"decision\": \"keep\", \"reason\": \"r\", \"decidedBy\": \"x\" } ] }", "a second decision")]
    [InlineData("{ \"decisions\": ", "not valid JSON")]
    [InlineData("[]", "expected an object")]
    public void Faults_name_the_file_and_the_decision(string json, string expected)
    {
        var act = () => DecisionFileParser.Parse(json, "d.json");

        act.Should().Throw<InputException>().Which.Message.Should().StartWith("d.json").And.Contain(expected);
    }

    [Theory]
    [InlineData("{\n  \"formatVersion\": 1,\n  \"decisions\": [\n    { \"entityId\": \"a\", \"decision\": \"keep\", \"reason\": \"r\", \"decidedBy\": \"x\" },\n    { \"entityId\": \"b\", \"decision\": \"use-target\", \"targetId\": \"t\",\n      \"targetID\": \"u\", \"reason\": \"r\", \"decidedBy\": \"x\" }\n  ]\n}", "d.json:6: decisions[1].targetID: unknown key \"targetID\"")]
    [InlineData("{ \"formatVersion\": 1,\n  \"decision\": [] }", "d.json:2: decision: unknown key \"decision\"")]
    public void An_unknown_key_is_refused_with_its_key_path_and_line(string json, string expected)
    {
        var act = () => DecisionFileParser.Parse(json, "d.json");

        act.Should().Throw<InputException>().Which.Message.Should().StartWith(expected);
    }

    [Fact]
    public void A_byte_order_mark_is_accepted()
    {
        var bytes = System.Text.Encoding.UTF8.GetPreamble().Concat(System.Text.Encoding.UTF8.GetBytes("{ \"formatVersion\": 1, \"decisions\": [ { \"entityId\": \"a\", \"decision\": \"keep\", \"reason\": \"r\", \"decidedBy\": \"x\" } ] }")).ToArray();

        // As the CLI reads it: the bytes decoded as UTF-8, which keeps the mark as U+FEFF.
        var decisions = DecisionFileParser.Parse(System.Text.Encoding.UTF8.GetString(bytes), "d.json");

        decisions.Should().ContainSingle().Which.EntityId.Should().Be("a");
    }
}
