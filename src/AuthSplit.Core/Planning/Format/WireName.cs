using System.Collections.Frozen;
using System.Text.Json;

namespace AuthSplit.Core.Planning.Format;

/// <summary>
/// The one spelling of an enum value outside the code (<c>not-applicable</c>, <c>service-account</c>,
/// <c>target-shared</c>): taken from the plan's own JSON serialiser, so the plan, the CSV, the tables and
/// <c>plan diff</c> cannot spell a code differently.
/// </summary>
public static class WireName
{
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum => Names<TEnum>.ByValue[value];

    /// <summary>Reads a wire name back (exactly as written; no case folding).</summary>
    public static bool TryParse<TEnum>(string text, out TEnum value)
        where TEnum : struct, Enum => Names<TEnum>.ByName.TryGetValue(text, out value);

    /// <summary>Every wire name of <typeparamref name="TEnum"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<TEnum>()
        where TEnum : struct, Enum => Names<TEnum>.InOrder;

    private static class Names<TEnum>
        where TEnum : struct, Enum
    {
        public static readonly string[] InOrder = [.. Enum.GetValues<TEnum>().Select(v => JsonSerializer.SerializeToElement(v, PlanSerializer.Options).GetString()!)];

        public static readonly FrozenDictionary<TEnum, string> ByValue = Enum.GetValues<TEnum>().Zip(InOrder).ToFrozenDictionary(p => p.First, p => p.Second);

        public static readonly FrozenDictionary<string, TEnum> ByName = ByValue.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }
}
