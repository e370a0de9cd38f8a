using System.Text;
using System.Text.RegularExpressions;
using GpuMux.Gpu.Compilation;

namespace GpuMux.Gpu.Sim;

/// <summary>
/// Stands in for NVRTC on the simulated device. It cannot compile CUDA C, so it checks what it
/// can (comments, strings and brackets that close, kernels declared <c>extern "C"</c>, and a
/// simulated implementation for every kernel) and reports problems the way NVRTC does, as
/// <c>name(line): error: ...</c> lines in the log of a <see cref="CompileException"/>. Like
/// NVRTC behind the daemon, it first refuses what <see cref="SourceRules"/> refuses: an
/// <c>#include</c> of anything, and options that reach for files.
/// </summary>
/// <param name="beforeCompile">Called first for each source: <see cref="SimDeviceOptions.BeforeCompileForTests"/>.</param>
internal sealed partial class SimCompiler(Action<KernelSource>? beforeCompile = null) : IKernelCompiler
{
    public string Identity => "gpumux-sim-compiler 1";

    public CompiledModule Compile(KernelSource source, ComputeCapability target)
    {
        beforeCompile?.Invoke(source);
        SourceRules.ThrowIfBroken(source, Identity);
        var errors = new List<string>();
        var code = StripCommentsAndCheckBrackets(source, errors);
        var entryPoints = new List<string>();
        foreach (Match match in GlobalFunction().Matches(code))
        {
            var name = match.Groups["name"].Value;
            var line = LineOf(code, match.Index);
            if (!match.Groups["extern"].Success)
            {
                errors.Add($"{source.Name}({line}): error: kernel \"{name}\" must be declared extern \"C\" so that it can be found by name");
            }
            else if (!SimKernels.Builtin.ContainsKey(name))
            {
                errors.Add($"{source.Name}({line}): error: kernel \"{name}\" has no simulated implementation (the Sim backend runs the built-in kernels only)");
            }
            else
            {
                entryPoints.Add(name);
            }
        }
        if (errors.Count > 0)
        {
            errors.Add($"{errors.Count} error{(errors.Count == 1 ? "" : "s")} detected in the compilation of \"{source.Name}\".");
            throw new CompileException(source.Name, string.Join('\n', errors), Identity);
        }
        return new CompiledModule(SimModuleImage.Create(entryPoints), "", FromCache: false);
    }

    /// <summary>
    /// Returns the code with comments and preprocessor lines blanked (newlines kept, so offsets
    /// still give line numbers), noting brackets outside literals that do not match.
    /// </summary>
    private static string StripCommentsAndCheckBrackets(KernelSource source, List<string> errors)
    {
        var text = source.Code;
        var output = new StringBuilder(text.Length);
        var open = new Stack<(char Bracket, int Line)>();
        var line = 1;
        var atLineStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var next = i + 1 < text.Length ? text[i + 1] : '\0';
            if (atLineStart && c == '#')
            {
                i = SkipTo(text, i, "\n", keepEnd: true) - 1;
                output.Append(' ');
                continue;
            }
            if (c == '/' && next == '/')
            {
                i = SkipTo(text, i, "\n", keepEnd: true) - 1;
                output.Append(' ');
                continue;
            }
            if (c == '/' && next == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    errors.Add($"{source.Name}({line}): error: comment is not closed");
                    break;
                }
                line += Blank(text, i, end + 2, output);
                i = end + 1;
                continue;
            }
            if (c is '"' or '\'')
            {
                var end = LiteralEnd(text, i);
                if (end < 0)
                {
                    errors.Add($"{source.Name}({line}): error: missing closing quote");
                    break;
                }
                output.Append(text, i, end - i + 1);
                i = end;
                atLineStart = false;
                continue;
            }
            if (c is '(' or '[' or '{')
            {
                open.Push((c, line));
            }
            else if (c is ')' or ']' or '}')
            {
                var expected = c switch { ')' => '(', ']' => '[', _ => '{' };
                if (open.Count == 0 || open.Peek().Bracket != expected)
                {
                    errors.Add($"{source.Name}({line}): error: unexpected \"{c}\"");
                }
                else
                {
                    open.Pop();
                }
            }
            if (c == '\n')
            {
                line++;
                atLineStart = true;
            }
            else if (!char.IsWhiteSpace(c))
            {
                atLineStart = false;
            }
            output.Append(c);
        }
        foreach (var (bracket, openedAt) in open)
        {
            var closing = bracket switch { '(' => ')', '[' => ']', _ => '}' };
            errors.Add($"{source.Name}({line}): error: expected a \"{closing}\" to close the \"{bracket}\" opened on line {openedAt}");
        }
        return output.ToString();
    }

    private static int SkipTo(string text, int from, string terminator, bool keepEnd)
    {
        var end = text.IndexOf(terminator, from, StringComparison.Ordinal);
        return end < 0 ? text.Length : keepEnd ? end : end + terminator.Length;
    }

    private static int LiteralEnd(string text, int start)
    {
        for (var i = start + 1; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == text[start])
            {
                return i;
            }
            else if (text[i] == '\n')
            {
                return -1;
            }
        }
        return -1;
    }

    /// <summary>Appends blanks for <c>text[from..to]</c>, keeping its newlines; returns how many there were.</summary>
    private static int Blank(string text, int from, int to, StringBuilder output)
    {
        var newlines = 0;
        for (var i = from; i < to; i++)
        {
            var isNewline = text[i] == '\n';
            newlines += isNewline ? 1 : 0;
            output.Append(isNewline ? '\n' : ' ');
        }
        return newlines;
    }

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    [GeneratedRegex(@"(?<extern>extern\s+""C""\s+)?__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?void\s+(?<name>[A-Za-z_]\w*)\s*\(")]
    private static partial Regex GlobalFunction();
}
