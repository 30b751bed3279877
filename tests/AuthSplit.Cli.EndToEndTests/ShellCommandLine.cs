using System.Text;
using System.Text.RegularExpressions;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>One command of a documented block, as a POSIX shell would run it.</summary>
/// <param name="Environment">The <c>NAME=value</c> assignments before the command, for it alone.</param>
/// <param name="Words">The program and its arguments after quote removal and expansion.</param>
/// <param name="Export">True for <c>export NAME=value ...</c>: the assignments hold for the rest of the document.</param>
/// <param name="Text">The command as written (after joining continuation lines), for messages.</param>
internal sealed record ShellCommand(IReadOnlyDictionary<string, string> Environment, IReadOnlyList<string> Words, bool Export, string Text);

/// <summary>
/// The part of the POSIX shell language the README and runbooks may use, parsed as a shell parses it:
/// backslash-newline continuations, comments, single quotes (literal), double quotes (with <c>$VAR</c>,
/// <c>${VAR}</c> and <c>\"</c> <c>\\</c> <c>\$</c>), backslash escapes, <c>$VAR</c> expansion of the
/// variables the test defines, leading <c>NAME=value</c> assignments and <c>export</c>. Anything else a
/// shell would treat specially (pipes, redirections, <c>;</c>, <c>&amp;</c>, command substitution, globs,
/// <c>~</c>) is refused, so a documented command cannot silently mean something else here than in a shell.
/// </summary>
internal static partial class ShellCommandLine
{
    public static IReadOnlyList<ShellCommand> Parse(string block, IReadOnlyDictionary<string, string> variables)
    {
        var joined = block.Replace("\\\r\n", string.Empty, StringComparison.Ordinal).Replace("\\\n", string.Empty, StringComparison.Ordinal);
        var known = new Dictionary<string, string>(variables, StringComparer.Ordinal);
        var commands = new List<ShellCommand>();
        foreach (var line in joined.Split('\n'))
        {
            var words = Words(line.TrimEnd('\r'), known);
            if (words.Count == 0)
            {
                continue;
            }

            var export = words[0] is { Quoted: false, Text: "export" };
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            var index = export ? 1 : 0;
            while (index < words.Count && Assignment().Match(words[index].Raw) is { Success: true } assignment)
            {
                environment[assignment.Groups["name"].Value] = words[index].Text[(assignment.Groups["name"].Length + 1)..];
                index++;
            }

            if (export)
            {
                if (index != words.Count || environment.Count == 0)
                {
                    throw new FormatException($"`{line}`: export takes only NAME=value assignments here");
                }

                foreach (var (name, value) in environment)
                {
                    known[name] = value;
                }
            }
            else if (index == words.Count)
            {
                throw new FormatException($"`{line}`: a bare assignment; use export NAME=value");
            }

            commands.Add(new ShellCommand(environment, [.. words.Skip(index).Select(w => w.Text)], export, line.Trim()));
        }

        return commands;
    }

    private sealed record Word(string Text, string Raw, bool Quoted);

    private static List<Word> Words(string line, Dictionary<string, string> variables)
    {
        var words = new List<Word>();
        var text = new StringBuilder();
        var raw = new StringBuilder();
        var inWord = false;
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c))
            {
                Finish();
                continue;
            }

            if (c == '#' && !inWord)
            {
                break;
            }

            inWord = true;
            switch (c)
            {
                case '\'':
                    var close = line.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        throw new FormatException($"`{line}`: unterminated single quote");
                    }

                    text.Append(line, i + 1, close - i - 1);
                    raw.Append(line, i, close - i + 1);
                    quoted = true;
                    i = close;
                    break;
                case '"':
                    quoted = true;
                    raw.Append(c);
                    for (i++; ; i++)
                    {
                        if (i >= line.Length)
                        {
                            throw new FormatException($"`{line}`: unterminated double quote");
                        }

                        var d = line[i];
                        raw.Append(d);
                        if (d == '"')
                        {
                            break;
                        }

                        if (d == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            text.Append(line[++i]);
                            raw.Append(line[i]);
                        }
                        else if (d == '$')
                        {
                            i = Expand(line, i, variables, text);
                        }
                        else if (d == '`')
                        {
                            throw new FormatException($"`{line}`: command substitution is not supported in documented commands");
                        }
                        else
                        {
                            text.Append(d);
                        }
                    }

                    break;
                case '\\':
                    if (i + 1 < line.Length)
                    {
                        text.Append(line[++i]);
                        raw.Append('\\').Append(line[i]);
                        quoted = true;
                    }

                    break;
                case '$':
                    raw.Append(c);
                    i = Expand(line, i, variables, text);
                    break;
                case '|' or '&' or ';' or '<' or '>' or '`' or '(' or ')' or '*' or '?' or '[':
                    throw new FormatException($"`{line}`: '{c}' is not supported in documented commands (write one plain command per line)");
                case '~' when text.Length == 0:
                    throw new FormatException($"`{line}`: '~' is not expanded here; use $HOME or a variable");
                default:
                    text.Append(c);
                    raw.Append(c);
                    break;
            }
        }

        Finish();
        return words;

        void Finish()
        {
            if (inWord)
            {
                words.Add(new Word(text.ToString(), raw.ToString(), quoted));
            }

            text.Clear();
            raw.Clear();
            inWord = false;
            quoted = false;
        }
    }

    // $NAME or ${NAME}: only variables the test defines (or the document exported); anything else is refused.
    private static int Expand(string line, int dollar, Dictionary<string, string> variables, StringBuilder text)
    {
        var match = Variable().Match(line, dollar);
        if (!match.Success || match.Index != dollar)
        {
            throw new FormatException($"`{line}`: only $NAME and ${{NAME}} expansions are supported");
        }

        var name = match.Groups["braced"].Success ? match.Groups["braced"].Value : match.Groups["plain"].Value;
        if (!variables.TryGetValue(name, out var value))
        {
            throw new FormatException($"`{line}`: ${name} is not one of the variables the documentation test defines ({string.Join(", ", variables.Keys)})");
        }

        text.Append(value);
        return dollar + match.Length - 1;
    }

    [GeneratedRegex(@"\G\$(?:\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?<plain>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^(?<name>[A-Za-z_][A-Za-z0-9_]*)=")]
    private static partial Regex Assignment();
}
