using System.Globalization;
using System.Reflection;
using AuthSplit.Core.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace AuthSplit.Cli.Configuration;

/// <summary>
/// Walks the configuration against the options types before binding: every key must be a property,
/// every value must convert to its property's type, lists must be lists. Each fault is one
/// <see cref="ConfigError"/> with its key path and what was expected; the faulty keys are then left
/// out of binding (<see cref="SoundValues"/>) and out of validation (<see cref="IsFaulty"/>), so one
/// fault never shows up as a second, false one.
/// </summary>
internal sealed class ConfigShapeChecker(IConfigurationRoot root, IReadOnlyCollection<string> ignoredSections)
{
    private readonly List<string> _faulty = [];
    private readonly List<string> _unset = [];

    public IReadOnlyList<ConfigError> Check(Type optionsType)
    {
        var errors = new List<ConfigError>();
        CheckObject(root.GetChildren(), optionsType, errors, isRoot: true);
        return errors;
    }

    /// <summary>The key/value pairs that passed the check, for the binder.</summary>
    public IEnumerable<KeyValuePair<string, string?>> SoundValues() =>
        root.AsEnumerable()
            .Where(pair => pair.Value is not null
                && !IsFaulty(pair.Key)
                && !_unset.Any(unset => Covers(unset, pair.Key))
                && !ignoredSections.Any(section => Covers(section, pair.Key)));

    /// <summary>Whether <paramref name="key"/> is, lies under, or contains a key already reported.</summary>
    public bool IsFaulty(string key) => _faulty.Any(faulty => Covers(faulty, key) || Covers(key, faulty));

    /// <summary>Where a key's value came from, when it is not the config file; null for the file.</summary>
    public string? OriginOf(string key)
    {
        foreach (var provider in root.Providers.Reverse())
        {
            var providing = root.AsEnumerable()
                .Where(pair => pair.Value is not null && Covers(key, pair.Key) && provider.TryGet(pair.Key, out _))
                .Select(pair => pair.Key)
                .FirstOrDefault();
            if (providing is not null)
            {
                return provider is EnvironmentVariablesConfigurationProvider
                    ? $"environment variable {ConfigLoader.EnvironmentPrefix}{providing.Replace(":", "__", StringComparison.Ordinal)}"
                    : null;
            }
        }

        return null;
    }

    private static bool Covers(string parent, string key) =>
        string.Equals(parent, key, StringComparison.OrdinalIgnoreCase)
        || key.StartsWith(parent + ":", StringComparison.OrdinalIgnoreCase);

    private void CheckObject(IEnumerable<IConfigurationSection> children, Type type, List<ConfigError> errors, bool isRoot)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is not null || IsList(p.PropertyType, out _)).ToList();
        foreach (var child in children)
        {
            if (isRoot && ignoredSections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var known = properties.Select(p => p.Name).ToList();
                var suggestion = known.Select(name => (Name: name, Distance: Resemblance(name, child.Key))).Where(k => k.Distance <= 2).OrderBy(k => k.Distance).Select(k => k.Name).FirstOrDefault();
                var names = isRoot ? known.Concat(ignoredSections) : known;
                Fault(child, $"unknown {(isRoot ? "section" : "key")}{(suggestion is null ? "" : $"; did you mean {suggestion}?")} (known: {string.Join(", ", names)})", errors);
                continue;
            }

            CheckValue(child, property.PropertyType, errors);
        }
    }

    private void CheckValue(IConfigurationSection section, Type type, List<ConfigError> errors)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var children = section.GetChildren().ToList();
        var isArray = children.Count > 0 && children.All(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        if (IsScalar(type))
        {
            if (children.Count > 0)
            {
                Fault(section, $"expected {Describe(type)}, not {(isArray ? "a list" : "an object")}", errors);
            }
            else if (string.IsNullOrEmpty(section.Value))
            {
                // null or "": not set, the default stands (a required key is then reported by validation).
                _unset.Add(section.Path);
            }
            else if (!Converts(section.Value, type))
            {
                Fault(section, $"expected {Describe(type)} (got \"{section.Value}\")", errors);
            }
        }
        else if (IsList(type, out var element))
        {
            if (children.Count == 0)
            {
                if (!string.IsNullOrEmpty(section.Value))
                {
                    Fault(section, $"expected a list ([ ... ]) of {Plural(element)} (got \"{section.Value}\")", errors);
                }
            }
            else if (!isArray)
            {
                Fault(section, $"expected a list ([ ... ]) of {Plural(element)}, not an object", errors);
            }
            else
            {
                foreach (var child in children)
                {
                    CheckValue(child, element, errors);
                }
            }
        }
        else if (children.Count == 0)
        {
            if (!string.IsNullOrEmpty(section.Value))
            {
                Fault(section, $"expected an object ({{ ... }}) (got \"{section.Value}\")", errors);
            }
        }
        else if (isArray)
        {
            Fault(section, "expected an object ({ ... }), not a list", errors);
        }
        else
        {
            CheckObject(children, type, errors, isRoot: false);
        }
    }

    private void Fault(IConfigurationSection section, string message, List<ConfigError> errors)
    {
        _faulty.Add(section.Path);
        errors.Add(new ConfigError(section.Path, message) { Origin = OriginOf(section.Path) });
    }

    private static bool IsScalar(Type type) => type == typeof(string) || type.IsPrimitive || type.IsEnum || type == typeof(decimal);

    private static bool IsList(Type type, out Type element)
    {
        if (type.IsArray)
        {
            element = type.GetElementType()!;
            return true;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(IList<>) || definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(ICollection<>) || definition == typeof(IEnumerable<>)))
        {
            element = type.GetGenericArguments()[0];
            return true;
        }

        element = typeof(object);
        return false;
    }

    private static bool Converts(string value, Type type) => type switch
    {
        _ when type == typeof(string) => true,
        _ when type == typeof(bool) => bool.TryParse(value, out _),
        _ when type == typeof(int) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(long) => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(double) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(decimal) => decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out _),
        _ when type.IsEnum => Enum.GetNames(type).Contains(value.Trim(), StringComparer.OrdinalIgnoreCase),
        _ => true,
    };

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(string) => "a string",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(int) || type == typeof(long) => "a whole number",
        _ when type == typeof(double) || type == typeof(decimal) => "a number",
        _ when type.IsEnum => $"one of {string.Join(", ", Enum.GetNames(type))}",
        _ => $"a {type.Name}",
    };

    private static string Plural(Type element) => IsScalar(element) ? Describe(element).Replace("a ", "", StringComparison.Ordinal) + "s" : "objects";

    // How far a misspelt key is from a known name, or from its beginning (Pasword ~ PasswordFile).
    private static int Resemblance(string name, string key) =>
        Math.Min(Distance(name, key), 1 + Math.Min(Distance(name[..Math.Min(name.Length, key.Length)], key), Distance(name[..Math.Min(name.Length, key.Length + 1)], key)));

    private static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
