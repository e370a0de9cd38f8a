using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace GpuMux.Gpu.Compilation;

/// <summary>
/// Finds every way a CUDA C source could make the preprocessor open a file: an <c>#include</c>
/// (or <c>#include_next</c>, <c>#import</c>, <c>#embed</c>), a <c>__has_include</c> (or
/// <c>__has_include_next</c>, <c>__has_embed</c>), and a pragma that names a file dependency.
/// NVRTC opens an absolute path whatever its options, so the daemon refuses these before any
/// compiler sees the source.
/// <para>
/// It errs towards refusing. A directive is looked for at the start of every logical line, after
/// whitespace and comments, whatever the text before it, so one inside a comment or a string is
/// refused too. Lines are joined at backslash-newlines four ways, with and without trigraphs
/// (<c>??=</c> for <c>#</c>, <c>??/</c> for a backslash) and with and without blanks allowed
/// between the backslash and the newline, since dialects differ and a line joined where the
/// compiler does not join it would hide the directive after it. Universal character names of
/// letters and digits (<c>\u0069</c>) are read as the letters. An operator is refused wherever its
/// name appears as a word. A <c>__has_include</c> that token pasting assembles is not seen; it
/// could tell the source only whether a path exists, not read it.
/// </para>
/// </summary>
internal static partial class IncludeScan
{
    private static readonly string[] FileDirectives = ["include", "include_next", "import", "embed"];

    /// <summary>The lines (1-based, as the compiler numbers them) of everything that asks for a file, each once, in order.</summary>
    public static SortedSet<int> Lines(string code)
    {
        var lines = new SortedSet<int>();
        foreach (var (trigraphs, blanksInSplices) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var logical = LogicalText.Of(code, trigraphs, blanksInSplices);
            FindDirectives(logical, lines);
            foreach (Match match in FileOperator().Matches(logical.Text))
            {
                lines.Add(logical.LineOf(match.Index));
            }
            foreach (Match match in PragmaOperator().Matches(logical.Text))
            {
                lines.Add(logical.LineOf(match.Index));
            }
        }
        return lines;
    }

    private static void FindDirectives(LogicalText logical, SortedSet<int> lines)
    {
        var text = logical.Text;
        for (var lineStart = 0; lineStart < text.Length; lineStart = NextLine(text, lineStart))
        {
            var i = SkipSpaceAndComments(text, lineStart);
            if (i < text.Length && text[i] == '#')
            {
                i++;
            }
            else if (i + 1 < text.Length && text[i] == '%' && text[i + 1] == ':')
            {
                i += 2;
            }
            else
            {
                continue;
            }
            var nameStart = SkipSpaceAndComments(text, i);
            var name = ReadName(text, nameStart);
            if (FileDirectives.Contains(name, StringComparer.Ordinal)
                || name == "pragma" && FilePragma().IsMatch(text.AsSpan(nameStart, DirectiveEnd(text, nameStart) - nameStart)))
            {
                lines.Add(logical.LineOf(lineStart));
            }
        }
    }

    /// <summary>Skips blanks and comments, block comments across lines too (they are one space to the preprocessor); a line comment ends the line.</summary>
    private static int SkipSpaceAndComments(string text, int i)
    {
        while (i < text.Length)
        {
            if (text[i] is ' ' or '\t' or '\v' or '\f' or '\r')
            {
                i++;
            }
            else if (i + 1 < text.Length && text[i] == '/' && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? text.Length : end + 2;
            }
            else if (i + 1 < text.Length && text[i] == '/' && text[i + 1] == '/')
            {
                var end = text.IndexOf('\n', i);
                return end < 0 ? text.Length : end;
            }
            else
            {
                return i;
            }
        }
        return i;
    }

    private static string ReadName(string text, int start)
    {
        var i = start;
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '$' || text[i] > 0x7f))
        {
            i++;
        }
        return text[start..i];
    }

    /// <summary>Where the directive from <paramref name="start"/> ends: at the first newline outside a block comment.</summary>
    private static int DirectiveEnd(string text, int start)
    {
        var i = start;
        while (i < text.Length && text[i] != '\n')
        {
            i = text[i] == '/' && i + 1 < text.Length && text[i + 1] == '*' ? SkipSpaceAndComments(text, i) : i + 1;
        }
        return i;
    }

    private static int NextLine(string text, int lineStart)
    {
        var end = text.IndexOf('\n', lineStart);
        return end < 0 ? text.Length : end + 1;
    }

    [GeneratedRegex(@"(?<![A-Za-z0-9_$])__has_(?:include|include_next|embed)(?![A-Za-z0-9_$])")]
    private static partial Regex FileOperator();

    // GCC's "#pragma GCC dependency" opens the file it names; MSVC's include_alias renames one.
    [GeneratedRegex(@"dependency|include")]
    private static partial Regex FilePragma();

    [GeneratedRegex(@"_Pragma\s*\(\s*(?:u8|u|U|L)?R?""[^\n]*?(?:dependency|include)")]
    private static partial Regex PragmaOperator();

    /// <summary>
    /// The source after the translation phases that come before tokens: lines joined at
    /// backslash-newlines (with <c>blanksInSplices</c>, also where blanks sit between the two),
    /// with <c>trigraphs</c> <c>??=</c> read as <c>#</c> and <c>??/</c> as a backslash, and
    /// universal character names of letters, digits and underscores read as those. Keeps where
    /// each physical line began, for the compiler's line numbers.
    /// </summary>
    private sealed class LogicalText
    {
        private readonly List<int> _lineStarts;

        private LogicalText(string text, List<int> lineStarts)
        {
            Text = text;
            _lineStarts = lineStarts;
        }

        public string Text { get; }

        public static LogicalText Of(string code, bool trigraphs, bool blanksInSplices)
        {
            var text = new StringBuilder(code.Length);
            var lineStarts = new List<int> { 0 };
            for (var i = 0; i < code.Length;)
            {
                var (c, width) = CharAt(code, i, trigraphs);
                if (c == '\\' && SpliceEnd(code, i + width, blanksInSplices) is var end and >= 0)
                {
                    // A joined line still counts as a line for the compiler's numbering.
                    lineStarts.Add(text.Length);
                    i = end;
                    continue;
                }
                text.Append(c);
                if (c == '\n')
                {
                    lineStarts.Add(text.Length);
                }
                i += width;
            }
            return new LogicalText(text.ToString(), lineStarts);
        }

        /// <summary>The 1-based physical line of <paramref name="index"/> in <see cref="Text"/>: the last line to begin at or before it.</summary>
        public int LineOf(int index)
        {
            var found = _lineStarts.BinarySearch(index);
            if (found < 0)
            {
                return ~found;
            }
            // Lines joined at a splice begin at the same index; the first of them holds it.
            while (found > 0 && _lineStarts[found - 1] == index)
            {
                found--;
            }
            return found + 1;
        }

        /// <summary>The character at <paramref name="i"/> and how many characters of the code spell it.</summary>
        private static (char C, int Width) CharAt(string code, int i, bool trigraphs)
        {
            var c = code[i];
            if (trigraphs && c == '?' && i + 2 < code.Length && code[i + 1] == '?' && code[i + 2] is '=' or '/')
            {
                return (code[i + 2] == '=' ? '#' : '\\', 3);
            }
            if (c == '\\' && i + 5 < code.Length && code[i + 1] is 'u' or 'U')
            {
                var digits = code[i + 1] == 'u' ? 4 : 8;
                if (i + 1 + digits < code.Length
                    && int.TryParse(code.AsSpan(i + 2, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var named)
                    && named is < 0x80 && (char.IsAsciiLetterOrDigit((char)named) || named == '_'))
                {
                    return ((char)named, 2 + digits);
                }
            }
            return (c, 1);
        }

        /// <summary>Where the text goes on when the backslash before <paramref name="i"/> ends its line; -1 when it does not.</summary>
        private static int SpliceEnd(string code, int i, bool blanksInSplices)
        {
            while (blanksInSplices && i < code.Length && code[i] is ' ' or '\t')
            {
                i++;
            }
            if (i < code.Length && code[i] == '\r')
            {
                i++;
            }
            return i < code.Length && code[i] == '\n' ? i + 1 : -1;
        }
    }
}
