using GpuMux.Gpu.Compilation;

namespace GpuMux.Gpu.Tests.Compilation;

public sealed class ModuleCacheTests
{
    private static readonly KernelSource Source = new("k.cu", "extern \"C\" __global__ void spin(unsigned long long us) {}", ["-lineinfo"]);
    private static readonly ComputeCapability Target = new(9, 0);

    [Fact]
    public void The_key_changes_with_everything_that_changes_the_output()
    {
        var key = ModuleCache.Key("nvrtc 12.8", Target, Source);

        Assert.Equal(key, ModuleCache.Key("nvrtc 12.8", Target, Source with { }));
        Assert.NotEqual(key, ModuleCache.Key("nvrtc 12.9", Target, Source));
        Assert.NotEqual(key, ModuleCache.Key("nvrtc 12.8", new ComputeCapability(8, 0), Source));
        Assert.NotEqual(key, ModuleCache.Key("nvrtc 12.8", Target, Source with { Options = ["-G"] }));
        Assert.NotEqual(key, ModuleCache.Key("nvrtc 12.8", Target, Source with { Name = "other.cu" }));
        Assert.NotEqual(key, ModuleCache.Key("nvrtc 12.8", Target, Source with { Code = Source.Code + " " }));
    }

    [Fact]
    public void Option_boundaries_are_part_of_the_key()
    {
        Assert.NotEqual(
            ModuleCache.Key("c", Target, Source with { Options = ["-DA", "-DB"] }),
            ModuleCache.Key("c", Target, Source with { Options = ["-DA-DB"] }));
    }

    [Fact]
    public void Entries_are_read_back_with_their_kind()
    {
        var cache = new ModuleCache(Directory.CreateTempSubdirectory("gpumux-cache-test-").FullName);
        var image = ModuleImage.FromPtx(".version 8.0");

        Assert.Null(cache.TryRead("abc"));
        cache.TryWrite("abc", image);
        var read = cache.TryRead("abc");

        Assert.NotNull(read);
        Assert.Equal(ModuleImageKind.Ptx, read.Kind);
        Assert.True(read.Bytes.Span.SequenceEqual(image.Bytes.Span));
        Assert.Empty(Directory.GetFiles(cache.Directory, "*.tmp"));
    }

    [Fact]
    public void A_cache_that_cannot_be_written_costs_a_recompile_not_an_error()
    {
        var file = Path.GetTempFileName();
        var cache = new ModuleCache(Path.Combine(file, "under-a-file"));

        cache.TryWrite("abc", ModuleImage.FromPtx(".version 8.0"));

        Assert.Null(cache.TryRead("abc"));
    }
}
