using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>
/// Matches legacy people to target users with the configured rules, in order: the first rule whose
/// source values find any target user decides — exactly one is a match, several are ambiguous.
/// Comparison is case-insensitive, as Graph's own <c>eq</c> on these properties is.
/// </summary>
public sealed class TargetMatcher
{
    private readonly IReadOnlyList<CompiledMatchingRule> _rules;
    private readonly Dictionary<string, TargetUser> _byId;
    private readonly Dictionary<string, Dictionary<string, List<TargetUser>>> _indexByProperty;

    public TargetMatcher(IReadOnlyList<CompiledMatchingRule> rules, IEnumerable<TargetUser> users)
    {
        _rules = rules;
        _byId = new Dictionary<string, TargetUser>(StringComparer.OrdinalIgnoreCase);
        _indexByProperty = new Dictionary<string, Dictionary<string, List<TargetUser>>>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in rules.Select(r => r.Target).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            _indexByProperty[property] = new Dictionary<string, List<TargetUser>>(StringComparer.OrdinalIgnoreCase);
        }

        foreach (var user in users)
        {
            _byId[user.Id] = user;
            foreach (var (property, index) in _indexByProperty)
            {
                if (user.Get(property) is { Length: > 0 } value)
                {
                    if (!index.TryGetValue(value, out var list))
                    {
                        index[value] = list = [];
                    }

                    list.Add(user);
                }
            }
        }
    }

    public int Count => _byId.Count;

    public TargetUser? FindById(string id) => _byId.GetValueOrDefault(id);

    public MatchResult Match(DirectoryEntry entry)
    {
        var considered = new List<RuleAttempt>();
        foreach (var rule in _rules)
        {
            var values = SourceValues(entry, rule);
            var index = _indexByProperty[rule.Target];
            var found = new List<TargetUser>(1);
            foreach (var value in values)
            {
                if (index.TryGetValue(value, out var users))
                {
                    foreach (var user in users)
                    {
                        if (!found.Exists(f => string.Equals(f.Id, user.Id, StringComparison.OrdinalIgnoreCase)))
                        {
                            found.Add(user);
                        }
                    }
                }
            }

            found.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
            var candidates = found;
            var result = values.Count == 0 ? "no-source-value" : candidates.Count switch { 0 => "none", 1 => "unique", _ => "ambiguous" };
            considered.Add(new RuleAttempt(rule.Rule, rule.Source, rule.Target, values, [.. candidates.Select(c => c.Id)], result));
            if (candidates.Count == 1)
            {
                var user = candidates[0];
                var value = values.First(v => string.Equals(user.Get(rule.Target), v, StringComparison.OrdinalIgnoreCase));
                return Matched(MatchStatus.Matched, rule.Rule, value, user, considered);
            }

            if (candidates.Count > 1)
            {
                return new MatchResult { Status = MatchStatus.Ambiguous, Rule = rule.Rule, Considered = considered };
            }
        }

        return new MatchResult { Status = MatchStatus.None, Considered = considered };
    }

    public static MatchResult Matched(MatchStatus status, int? rule, string? value, TargetUser user, IReadOnlyList<RuleAttempt>? considered) => new()
    {
        Status = status,
        Rule = rule,
        Value = value,
        TargetId = user.Id,
        TargetUserPrincipalName = user.UserPrincipalName,
        TargetAccountEnabled = user.AccountEnabled,
        Considered = considered,
    };

    private static List<string> SourceValues(DirectoryEntry entry, CompiledMatchingRule rule)
    {
        var raw = entry.GetValues(rule.Source);
        var values = new List<string>(raw.Count);
        foreach (var bytes in raw)
        {
            var value = rule.Transform == MatchTransform.Base64 ? Convert.ToBase64String(bytes) : System.Text.Encoding.UTF8.GetString(bytes);
            if (value.Length > 0 && !values.Exists(v => string.Equals(v, value, StringComparison.OrdinalIgnoreCase)))
            {
                values.Add(value);
            }
        }

        return values;
    }
}
