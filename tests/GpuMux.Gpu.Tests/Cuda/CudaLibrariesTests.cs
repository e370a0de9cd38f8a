using System.Runtime.InteropServices;
using GpuMux.Gpu.Cuda.Native;

namespace GpuMux.Gpu.Tests.Cuda;

/// <summary>Which NVRTC the backend may load: never one newer than the driver, whose code the driver could not load.</summary>
public sealed class CudaLibrariesTests
{
    private static readonly string[] Cuda11 = ["libnvrtc.so.11", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0"];

    [Fact]
    public void A_12_driver_tries_nvrtc_12_then_11_and_never_13()
    {
        Assert.Equal(["libnvrtc.so.12", .. Cuda11, "libnvrtc.so"], CudaLibraries.NvrtcSonames(12));
        Assert.Equal(["libnvrtc.so.13"], CudaLibraries.NewerNvrtcSonames(12));
    }

    [Fact]
    public void A_13_driver_tries_nvrtc_13_first_then_each_older_major()
    {
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", .. Cuda11, "libnvrtc.so"], CudaLibraries.NvrtcSonames(13));
        Assert.Empty(CudaLibraries.NewerNvrtcSonames(13));
    }

    [Fact]
    public void An_11_driver_tries_only_the_cuda_11_sonames()
    {
        Assert.Equal([.. Cuda11, "libnvrtc.so"], CudaLibraries.NvrtcSonames(11));
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12"], CudaLibraries.NewerNvrtcSonames(11));
    }

    [Fact]
    public void A_driver_newer_than_any_nvrtc_the_bindings_know_starts_at_the_newest_they_know()
    {
        Assert.Equal($"libnvrtc.so.{CudaLibraries.NewestNvrtcMajor}", CudaLibraries.NvrtcSonames(CudaLibraries.NewestNvrtcMajor + 1)[0]);
    }

    [Fact]
    public void An_nvrtc_of_a_newer_major_is_refused_naming_both_versions_and_a_newer_minor_is_not()
    {
        var refusal = CudaLibraries.NewerThanDriver("libnvrtc.so.13", new Version(13, 0), new Version(12, 4));

        Assert.NotNull(refusal);
        Assert.Contains("NVRTC 13.0 (libnvrtc.so.13)", refusal);
        Assert.Contains("CUDA 12.4 driver", refusal);
        Assert.Null(CudaLibraries.NewerThanDriver("libnvrtc.so.12", new Version(12, 8), new Version(12, 4)));
    }

    [Fact]
    public void A_library_that_reports_a_newer_nvrtc_is_loaded_refused_and_let_go()
    {
        var library = FakeNvrtc(13, 0);

        var handle = CudaLibraries.LoadNvrtc([library], new Version(12, 4), out var error, out var loadedFrom);

        Assert.Equal(0, handle);
        Assert.Null(loadedFrom);
        Assert.Equal($"NVRTC 13.0 ({library}) is newer than the CUDA 12.4 driver, which cannot load what it compiles", error);
    }

    [Fact]
    public void A_library_that_reports_the_driver_s_own_major_is_taken()
    {
        var library = FakeNvrtc(13, 1);

        var handle = CudaLibraries.LoadNvrtc([library], new Version(13, 0), out var error, out var loadedFrom);
        try
        {
            Assert.NotEqual(0, handle);
            Assert.Equal(library, loadedFrom);
            Assert.Null(error);
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }

    /// <summary>A shared library that exports only an nvrtcVersion reporting the given version.</summary>
    private static string FakeNvrtc(int major, int minor)
    {
        var compiler = CCompiler.Find();
        Assert.SkipWhen(compiler is null, "needs a C compiler (cc, gcc or clang) on PATH to build a stand-in libnvrtc");

        var directory = Directory.CreateTempSubdirectory("gpumux-fake-nvrtc-").FullName;
        var source = Path.Combine(directory, "nvrtc.c");
        var library = Path.Combine(directory, $"libnvrtc.so.{major}");
        File.WriteAllText(source, $"int nvrtcVersion(int* major, int* minor) {{ *major = {major}; *minor = {minor}; return 0; }}\n");
        var (exitCode, output) = CCompiler.Run(compiler!, $"-shared -fPIC -o {library} {source}");
        Assert.True(exitCode == 0, $"the stand-in libnvrtc did not build:\n{output}");
        return library;
    }
}
