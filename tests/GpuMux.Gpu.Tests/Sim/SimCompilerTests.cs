using GpuMux.Gpu.Sim;

namespace GpuMux.Gpu.Tests.Sim;

public sealed class SimCompilerTests
{
    private static readonly ComputeCapability Target = new(8, 0);

    [Theory]
    [InlineData("extern \"C\" __global__ void spin(unsigned long long us)\n{\n    if (us) {\n}\n", "expected a \"}\"")]
    [InlineData("extern \"C\" __global__ void spin(unsigned long long us)\n{\n    x[0) = 1;\n}\n", "error: unexpected \")\"")]
    [InlineData("/* never closed\nextern \"C\" __global__ void spin(unsigned long long us) {}\n", "comment is not closed")]
    [InlineData("__global__ void spin(unsigned long long us) {}\n", "must be declared extern \"C\"")]
    public void Reports_errors_in_the_compilers_format(string code, string expected)
    {
        var error = Assert.Throws<CompileException>(() => new SimCompiler().Compile(new KernelSource("k.cu", code), Target));

        Assert.Contains(expected, error.Log);
        Assert.StartsWith("k.cu(", error.Log);
        Assert.EndsWith("detected in the compilation of \"k.cu\".", error.Log);
    }

    [Fact]
    public void Brackets_and_kernels_inside_comments_strings_and_directives_are_ignored()
    {
        const string code = """
            #define OPEN {
            // extern "C" __global__ void commented_out(int x) {
            /* ( [ { */
            extern "C" __global__ void checksum(const unsigned int* w, unsigned long long n, unsigned long long* out)
            {
                const char* text = "} ) ]";
                char c = '{';
            }
            """;

        var compiled = new SimCompiler().Compile(new KernelSource("ok.cu", code), Target);

        Assert.Equal(["checksum"], SimModuleImage.EntryPoints(compiled.Image));
    }

    [Fact]
    public void Ptx_entry_points_are_read_and_text_without_a_version_is_refused()
    {
        var ptx = ModuleImage.FromPtx(".version 7.0\n.target sm_75\n.visible .entry spin(\n.param .u64 p\n)\n{\nret;\n}\n.entry fill_f32()\n{\nret;\n}\n");

        Assert.Equal(["spin", "fill_f32"], SimModuleImage.EntryPoints(ptx));
        Assert.Equal(GpuStatus.InvalidImage, Assert.ThrowsAny<GpuException>(() => SimModuleImage.EntryPoints(ModuleImage.FromPtx("hello"))).Status);
    }
}
