namespace GpuMux.Gpu.Compilation;

/// <summary>
/// A compiler in front of the disk cache: a source compiled once is loaded from disk thereafter.
/// Safe to call from several threads at once: NVRTC compiles separate programs concurrently, the
/// Sim's compiler keeps no state, and the cache writes each entry whole under a name of its own
/// before renaming it into place (two compiles of one source both write the same bytes).
/// </summary>
public sealed class ModuleCompiler
{
    private readonly IKernelCompiler _compiler;
    private readonly ModuleCache? _cache;

    internal ModuleCompiler(IKernelCompiler compiler, string? cacheDirectory)
    {
        _compiler = compiler;
        _cache = cacheDirectory is null ? null : new ModuleCache(cacheDirectory);
    }

    public string CompilerIdentity => _compiler.Identity;

    public CompiledModule Compile(KernelSource source, ComputeCapability target)
    {
        // Before the cache too: a cache kept from before the rules may hold what they refuse.
        SourceRules.ThrowIfBroken(source, _compiler.Identity);
        var key = _cache is null ? null : ModuleCache.Key(_compiler.Identity, target, source);
        if (key is not null && _cache!.TryRead(key) is { } cached)
        {
            return new CompiledModule(cached, "", FromCache: true);
        }
        var compiled = _compiler.Compile(source, target);
        if (key is not null)
        {
            _cache!.TryWrite(key, compiled.Image);
        }
        return compiled;
    }
}
