using System.Text.RegularExpressions;

namespace GpuMux.Gpu.Compilation;

/// <summary>
/// What a source may ask of a compile: nothing from disk. Every compiler applies these rules
/// first, the same way, so that what the Sim refuses NVRTC never sees: an <c>#include</c> (or
/// anything else that names a file, <see cref="IncludeScan"/>), and any option but the few that
/// only change the code generated (no include paths, pre-includes, precompiled headers, timing
/// files or targets). The daemon's compiles see no headers: a module's source is self-contained.
/// </summary>
internal static partial class SourceRules
{
    /// <summary>Throws <see cref="CompileException"/>, with a log in the compiler's format, when <paramref name="source"/> breaks a rule.</summary>
    public static void ThrowIfBroken(KernelSource source, string compiler)
    {
        var errors = new List<string>();
        foreach (var line in IncludeScan.Lines(source.Code))
        {
            errors.Add($"{source.Name}({line}): catastrophic error: a source compiled by the daemon may include nothing: it is compiled with no include path and no headers, so it must be self-contained");
        }
        foreach (var option in source.Options)
        {
            if (!AllowedOption().IsMatch(option))
            {
                errors.Add($"{source.Name}: error: option \"{Shortened(option)}\" is not allowed; the daemon takes only --std, --use_fast_math, --fmad, --ftz, --prec-div, --prec-sqrt, --restrict, --generate-line-info, --maxrregcount, --disable-warnings and plain -D macros");
            }
        }
        if (errors.Count > 0)
        {
            errors.Add($"{errors.Count} error{(errors.Count == 1 ? "" : "s")} detected in the compilation of \"{source.Name}\".");
            throw new CompileException(source.Name, string.Join('\n', errors), compiler);
        }
    }

    private static string Shortened(string option) => option.Length <= 64 ? option : $"{option[..64]}...";

    [GeneratedRegex(@"^(?:(?:--std|-std)=c\+\+(?:11|14|17|20)|--use_fast_math|-use_fast_math|--(?:fmad|ftz|prec-div|prec-sqrt)=(?:true|false)|--restrict|-restrict|--generate-line-info|-lineinfo|--maxrregcount=[0-9]{1,3}|--disable-warnings|-w|(?:-D|--define-macro=)[A-Za-z_][A-Za-z0-9_]*(?:=[A-Za-z0-9_.+-]*)?)$")]
    private static partial Regex AllowedOption();
}
