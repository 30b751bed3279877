using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli;

/// <summary>The one message for a <c>--wave</c> that names no wave, with the waves there are.</summary>
public static class UnknownWave
{
    /// <param name="where">"config" or "plan": what was searched.</param>
    public static InputException Error(string wave, IEnumerable<string?> known, string where, string? source) =>
        new("wave-unknown", $"the {where} has no wave \"{PrintableText.Escape(wave)}\" (it has {PrintableText.Escape(string.Join(", ", known))})", source);
}
