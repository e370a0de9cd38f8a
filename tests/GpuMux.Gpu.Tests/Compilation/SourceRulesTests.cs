using GpuMux.Gpu.Compilation;
using GpuMux.Gpu.Sim;

namespace GpuMux.Gpu.Tests.Compilation;

/// <summary>
/// A source compiled by the daemon reads nothing from disk: every way of naming a file to the
/// preprocessor is refused, however it is spelled, and so is every option that reaches for one.
/// </summary>
public sealed class SourceRulesTests
{
    private const string Kernel = "extern \"C\" __global__ void spin(unsigned long long us) {}\n";

    [Theory]
    [InlineData("#include \"/etc/passwd\"\n", 1)]
    [InlineData("#include \"../secret.h\"\n", 1)]
    [InlineData("#include <stdio.h>\n", 1)]
    [InlineData("\n  #  include \"a.h\"\n", 2)]
    [InlineData("#include_next <a.h>\n", 1)]
    [InlineData("#import \"a.h\"\n", 1)]
    [InlineData("#embed \"/etc/passwd\"\n", 1)]
    [InlineData("#define FILE \"/etc/passwd\"\n#include FILE\n", 2)]
    [InlineData("%:include \"a.h\"\n", 1)]
    [InlineData("??=include \"a.h\"\n", 1)]
    [InlineData("#inc\\\nlude \"a.h\"\n", 1)]
    [InlineData("#inc??/\nlude \"a.h\"\n", 1)]
    [InlineData("#inc\\  \nlude \"a.h\"\n", 1)]
    [InlineData("x = 1; \\\n\n#include \"a.h\"\n", 3)]
    [InlineData("#/* a\ncomment */include \"a.h\"\n", 1)]
    [InlineData("/* one\ntwo */ # include \"a.h\"\n", 1)]
    [InlineData("#incl\\u0075de \"a.h\"\n", 1)]
    [InlineData("/* a comment\n#include \"a.h\"\n*/\n", 2)]
    [InlineData("#if __has_include(\"/etc/shadow\")\n#endif\n", 1)]
    [InlineData("#if defined(__has_include_next)\n#endif\n", 1)]
    [InlineData("#pragma GCC dependency \"/etc/passwd\"\n", 1)]
    [InlineData("_Pragma(\"GCC dependency \\\"/etc/passwd\\\"\")\n", 1)]
    public void Anything_that_names_a_file_to_the_preprocessor_is_refused_on_its_line(string directive, int line)
    {
        var error = Assert.Throws<CompileException>(() => Compile(directive + Kernel));

        Assert.Equal(GpuStatus.CompileFailed, error.Status);
        Assert.StartsWith($"k.cu({line}): catastrophic error: a source compiled by the daemon may include nothing", error.Log);
    }

    [Theory]
    [InlineData("#line 1 \"/etc/passwd\"\n")]
    [InlineData("#pragma unroll 4\n")]
    [InlineData("#define INCLUDE_COUNT 1\n#ifdef INCLUDE_COUNT\n#endif\n")]
    [InlineData("// see #include in the docs\n")]
    [InlineData("__device__ const char* text = \"#include <x>\";\n")]
    [InlineData("__device__ int has_include_count;\n")]
    public void Directives_and_words_that_name_no_file_compile(string prefix)
    {
        Assert.NotNull(Compile(prefix + Kernel));
    }

    [Fact]
    public void The_log_names_the_lines_but_never_what_a_file_holds()
    {
        var passwd = File.ReadAllText("/etc/passwd");

        var error = Assert.Throws<CompileException>(() => Compile("#include \"/etc/passwd\"\n#include \"passwd\"\n" + Kernel));

        Assert.DoesNotContain(passwd.Split('\n')[0], error.Log);
        Assert.DoesNotContain("/etc/passwd", error.Log);
        Assert.Contains("k.cu(2): catastrophic error", error.Log);
        Assert.EndsWith("2 errors detected in the compilation of \"k.cu\".", error.Log);
    }

    [Theory]
    [InlineData("-I/etc")]
    [InlineData("--include-path=/etc")]
    [InlineData("--pre-include=/etc/passwd")]
    [InlineData("-include")]
    [InlineData("--use-bundled-headers=/tmp")]
    [InlineData("--time=/tmp/x")]
    [InlineData("--create-pch=/tmp/x.pch")]
    [InlineData("--gpu-architecture=sm_90")]
    [InlineData("-DX=__has_include(\"/etc/passwd\")")]
    [InlineData("--std=c++17 -I/etc")]
    public void Options_that_reach_for_files_or_are_the_daemon_s_to_choose_are_refused(string option)
    {
        var error = Assert.Throws<CompileException>(() => Compile(Kernel, option));

        Assert.Contains("is not allowed", error.Log);
    }

    [Theory]
    [InlineData("--std=c++17")]
    [InlineData("--use_fast_math")]
    [InlineData("--fmad=false")]
    [InlineData("-lineinfo")]
    [InlineData("-DGPUMUX_CACHE_PROBE=0123abcd")]
    [InlineData("--define-macro=N=4")]
    public void Options_that_change_only_the_code_generated_are_taken(string option)
    {
        Assert.NotNull(Compile(Kernel, option));
    }

    [Fact]
    public void A_cache_entry_for_a_source_that_includes_a_file_is_not_served()
    {
        var directory = Directory.CreateTempSubdirectory("gpumux-rules-test-");
        try
        {
            var compiler = new SimCompiler();
            var source = new KernelSource("k.cu", "#include \"/etc/passwd\"\n" + Kernel);
            var target = new ComputeCapability(8, 0);
            // As a daemon from before the rules would have left it.
            new ModuleCache(directory.FullName).TryWrite(ModuleCache.Key(compiler.Identity, target, source), ModuleImage.FromPtx(".version 8.0\n"));

            var error = Assert.Throws<CompileException>(() => new ModuleCompiler(compiler, directory.FullName).Compile(source, target));

            Assert.Contains("k.cu(1): catastrophic error", error.Log);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static CompiledModule Compile(string code, params string[] options) =>
        new SimCompiler().Compile(new KernelSource("k.cu", code, options), new ComputeCapability(8, 0));
}
