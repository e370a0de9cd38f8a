using System.Text;
using GpuMux.Gpu.Kernels;
using GpuMux.Linux;

namespace GpuMux.Engine.Tests;

public sealed class SessionRequestTests
{
    [Fact]
    public async Task Buffers_are_refused_at_zero_bytes_and_past_the_device()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, _) = engine.Open();

        Assert.Equal(EngineError.InvalidArgument, await ErrorOf(session.AllocateBufferAsync(0, Ct)));
        Assert.Equal(EngineError.OutOfMemory, await ErrorOf(session.AllocateBufferAsync(2 * TestEngine.Capacity, Ct)));
        await session.AllocateBufferAsync(TestEngine.Capacity / 2, Ct);
        Assert.Equal(EngineError.OutOfMemory, await ErrorOf(session.AllocateBufferAsync(TestEngine.Capacity / 2 + 1, Ct)));
    }

    [Fact]
    public async Task Buffers_are_refused_past_the_session_quotas()
    {
        await using var engine = await TestEngine.StartAsync(new EngineOptions { MaxBuffersPerSession = 3, MaxBufferBytesPerSession = 1 << 20 });
        var (session, _) = engine.Open();

        await session.AllocateBufferAsync(768 << 10, Ct);
        Assert.Equal(EngineError.QuotaExceeded, await ErrorOf(session.AllocateBufferAsync(512 << 10, Ct)));
        await session.AllocateBufferAsync(1024, Ct);
        await session.AllocateBufferAsync(1024, Ct);
        Assert.Equal(EngineError.QuotaExceeded, await ErrorOf(session.AllocateBufferAsync(1024, Ct)));
        Assert.Equal((768UL << 10) + 2048, (await engine.GetStatusAsync(Ct)).SessionBytes);
    }

    [Fact]
    public async Task Regions_are_refused_for_short_files_bad_lengths_and_past_the_quota_and_the_descriptor_is_always_closed()
    {
        await using var engine = await TestEngine.StartAsync(new EngineOptions { MaxRegionsPerSession = 1, MaxRegionBytes = 1 << 20 });
        var (session, _) = engine.Open();
        using var shared = new SharedMemoryFile(8192);

        var shortFile = shared.OpenDescriptor();
        Assert.Equal(EngineError.BadDescriptor, await ErrorOf(session.RegisterRegionAsync(shortFile, 16384, Ct)));
        Assert.True(shortFile.IsClosed);
        Assert.Equal(EngineError.InvalidArgument, await ErrorOf(session.RegisterRegionAsync(shared.OpenDescriptor(), 0, Ct)));
        Assert.Equal(EngineError.InvalidArgument, await ErrorOf(session.RegisterRegionAsync(shared.OpenDescriptor(), (1 << 20) + 1, Ct)));
        var accepted = shared.OpenDescriptor();
        var region = await session.RegisterRegionAsync(accepted, 8192, Ct);
        Assert.True(accepted.IsClosed);
        Assert.Equal(EngineError.QuotaExceeded, await ErrorOf(session.RegisterRegionAsync(shared.OpenDescriptor(), 4096, Ct)));

        await session.ReleaseRegionAsync(region, Ct);
        await session.RegisterRegionAsync(shared.OpenDescriptor(), 4096, Ct);
        var status = Assert.Single((await engine.GetStatusAsync(Ct)).Sessions);
        Assert.Equal((1, 4096ul), (status.Regions, status.RegionBytes));
    }

    [Fact]
    public async Task A_sealed_memfd_the_engine_may_not_map_read_write_is_a_bad_descriptor()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, _) = engine.Open();
        using var shared = new SharedMemoryFile(8192);
        using var writable = shared.OpenDescriptor();
        Assert.Equal(ShrinkSeal.Sealed, FileDescriptors.SealAgainstShrinking(writable));
        var readOnly = File.OpenHandle($"/proc/self/fd/{writable.DangerousGetHandle()}", FileMode.Open, FileAccess.Read);

        var error = await Assert.ThrowsAsync<EngineException>(() => session.RegisterRegionAsync(readOnly, 4096, Ct));

        Assert.Equal(EngineError.BadDescriptor, error.Error);
        Assert.Contains("mmap", error.Message);
        Assert.True(readOnly.IsClosed);
    }

    [Fact]
    public async Task Modules_that_do_not_compile_or_load_are_refused_with_the_reason()
    {
        await using var engine = await TestEngine.StartAsync(TestEngine.TrustingModules(new EngineOptions { MaxModulesPerSession = 1 }));
        var (session, _) = engine.Open();

        var compile = await Assert.ThrowsAsync<EngineException>(() =>
            session.LoadModuleAsync(ModuleFormat.CudaC, "broken.cu", Encoding.UTF8.GetBytes("__global__ void spin(unsigned long long us) {}\n"), Ct));
        var include = await Assert.ThrowsAsync<EngineException>(() =>
            session.LoadModuleAsync(ModuleFormat.CudaC, "includer.cu", Encoding.UTF8.GetBytes("#include \"/etc/passwd\"\nextern \"C\" __global__ void spin(unsigned long long us) {}\n"), Ct));
        var ptx = await Assert.ThrowsAsync<EngineException>(() => session.LoadModuleAsync(ModuleFormat.Ptx, "bad.ptx", Encoding.UTF8.GetBytes("hello"), Ct));
        var cubin = await Assert.ThrowsAsync<EngineException>(() => session.LoadModuleAsync(ModuleFormat.Cubin, "bad.cubin", new byte[] { 0x7f, 0x45, 0x4c, 0x46 }, Ct));
        var empty = await Assert.ThrowsAsync<EngineException>(() => session.LoadModuleAsync(ModuleFormat.Ptx, "empty.ptx", ReadOnlyMemory<byte>.Empty, Ct));

        Assert.Equal(EngineError.CompileFailed, compile.Error);
        Assert.Contains("broken.cu(1): error: kernel \"spin\" must be declared extern \"C\"", compile.Message);
        Assert.Equal(EngineError.CompileFailed, include.Error);
        Assert.Contains("includer.cu(1): catastrophic error: a source compiled by the daemon may include nothing", include.Message);
        Assert.Equal(EngineError.ModuleLoadFailed, ptx.Error);
        Assert.Equal(EngineError.ModuleLoadFailed, cubin.Error);
        Assert.Equal(EngineError.InvalidArgument, empty.Error);

        var loaded = await session.LoadModuleAsync(ModuleFormat.Ptx, "spin.ptx", Encoding.UTF8.GetBytes(".version 8.0\n.target sm_80\n.visible .entry spin(\n.param .u64 p\n)\n{\nret;\n}\n"), Ct);
        Assert.NotEqual(0u, await session.GetFunctionAsync(loaded.Module, KernelNames.Spin, Ct));
        Assert.Equal(EngineError.QuotaExceeded, await ErrorOf(session.LoadModuleAsync(ModuleFormat.Ptx, "again.ptx", Encoding.UTF8.GetBytes(".version 8.0\n"), Ct)));
    }

    [Fact]
    public async Task Functions_are_found_by_name_once_and_forgotten_with_their_module()
    {
        await using var engine = await TestEngine.StartAsync(TestEngine.TrustingModules());
        var (session, completions) = engine.Open();

        foreach (var name in engine.BuiltinFunctions)
        {
            Assert.Equal(await session.GetFunctionAsync(0, name, Ct), await session.GetFunctionAsync(0, name, Ct));
        }
        Assert.Equal(EngineError.UnknownFunction, await ErrorOf(session.GetFunctionAsync(0, "no_such_kernel", Ct)));
        Assert.Equal(EngineError.UnknownHandle, await ErrorOf(session.GetFunctionAsync(5, KernelNames.Spin, Ct)));
        Assert.Equal(EngineError.InvalidArgument, await ErrorOf(session.UnloadModuleAsync(0, Ct)));

        var module = await session.LoadModuleAsync(ModuleFormat.CudaC, "spin.cu", Encoding.UTF8.GetBytes("extern \"C\" __global__ void spin(unsigned long long us) {}\n"), Ct);
        var spin = await session.GetFunctionAsync(module.Module, KernelNames.Spin, Ct);
        Assert.Equal(EngineError.UnknownFunction, await ErrorOf(session.GetFunctionAsync(module.Module, KernelNames.FillF32, Ct)));
        await session.UnloadModuleAsync(module.Module, Ct);
        var launch = await session.RunAsync(completions, step =>
        {
            step.AddLaunch(spin, 1, 32, 0);
            step.AddScalarArgument(1UL);
        });

        Assert.Equal(EngineError.UnknownHandle, launch.Status);
        Assert.Equal(EngineError.UnknownHandle, await ErrorOf(session.GetFunctionAsync(module.Module, KernelNames.Spin, Ct)));
    }

    private static async Task<EngineError> ErrorOf(Task task) => (await Assert.ThrowsAsync<EngineException>(() => task)).Error;
}
