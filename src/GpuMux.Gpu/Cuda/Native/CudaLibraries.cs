using System.Reflection;
using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

/// <summary>
/// Finds libcuda and libnvrtc at run time. The bindings name the libraries "cuda" and "nvrtc";
/// the one resolver installed for this assembly maps those names onto the versioned sonames a
/// driver or toolkit install actually ships (there is usually no unversioned libcuda.so without
/// the development package). Handles are kept for the life of the process.
/// </summary>
internal static class CudaLibraries
{
    internal const string DriverLibraryName = "cuda";
    internal const string NvrtcLibraryName = "nvrtc";

    private const string DriverSoname = "libcuda.so.1";

    // CUDA 12 and 13 use the major version as the soname suffix; CUDA 11.x shipped
    // libnvrtc.so.11.2 (11.2 onwards), .11.1 and .11.0 instead.
    private static readonly string[] NvrtcSonames =
    [
        "libnvrtc.so.13",
        "libnvrtc.so.12",
        "libnvrtc.so.11",
        "libnvrtc.so.11.2",
        "libnvrtc.so.11.1",
        "libnvrtc.so.11.0",
        "libnvrtc.so",
    ];

    private static readonly string[] ToolkitRootVariables = ["CUDA_HOME", "CUDA_PATH"];

    private static readonly Lock Gate = new();

    private static bool _resolverInstalled;
    private static string? _resolverFailure;
    private static nint _driver;
    private static nint _nvrtc;
    private static string? _nvrtcPath;

    internal static bool IsDriverLoaded => Volatile.Read(ref _driver) != 0;

    internal static bool IsNvrtcLoaded => Volatile.Read(ref _nvrtc) != 0;

    /// <summary>Where libnvrtc was loaded from (a soname or a full path), once it has been.</summary>
    internal static string? NvrtcPath => Volatile.Read(ref _nvrtcPath);

    /// <summary>Installs the resolver once; safe from any thread, never throws.</summary>
    internal static void EnsureResolver()
    {
        if (Volatile.Read(ref _resolverInstalled))
        {
            return;
        }
        lock (Gate)
        {
            if (_resolverInstalled)
            {
                return;
            }
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // The runtime allows one resolver per assembly; someone else got there first, so
                // "cuda" and "nvrtc" will not be mapped. TryLoad* report it.
                _resolverFailure = $"another DllImport resolver is already installed for {typeof(CudaLibraries).Assembly.GetName().Name}";
            }
            Volatile.Write(ref _resolverInstalled, true);
        }
    }

    internal static bool TryLoadDriver(out string? reason)
    {
        EnsureResolver();
        if (IsDriverLoaded)
        {
            reason = _resolverFailure;
            return reason is null;
        }
        lock (Gate)
        {
            if (_driver == 0)
            {
                var handle = TryLoadFirst([DriverSoname, "libcuda.so"], "cuInit", out var loadError, out _);
                if (handle == 0)
                {
                    reason = loadError is null
                        ? $"{DriverSoname} not found: no NVIDIA driver installed"
                        : $"{DriverSoname} could not be loaded: {loadError}";
                    return false;
                }
                Volatile.Write(ref _driver, handle);
            }
        }
        reason = _resolverFailure;
        return reason is null;
    }

    internal static bool TryLoadNvrtc(out string? reason)
    {
        EnsureResolver();
        if (IsNvrtcLoaded)
        {
            reason = _resolverFailure;
            return reason is null;
        }
        lock (Gate)
        {
            if (_nvrtc == 0)
            {
                var directories = ToolkitLibraryDirectories().ToList();
                var handle = TryLoadFirst(NvrtcCandidates(directories), "nvrtcVersion", out var loadError, out var loadedFrom);
                if (handle == 0)
                {
                    reason = loadError is null
                        ? $"libnvrtc not found: no CUDA toolkit NVRTC ({string.Join(", ", NvrtcSonames)} are neither on the library path nor in {string.Join(", ", directories)})"
                        : $"libnvrtc could not be loaded: {loadError}";
                    return false;
                }
                Volatile.Write(ref _nvrtcPath, loadedFrom);
                Volatile.Write(ref _nvrtc, handle);
            }
        }
        reason = _resolverFailure;
        return reason is null;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        // Returning 0 lets the runtime fall back to its own probing, which then fails with a
        // DllNotFoundException at the call: callers are expected to have asked TryLoad* first.
        switch (libraryName)
        {
            case DriverLibraryName:
                TryLoadDriver(out _);
                return Volatile.Read(ref _driver);
            case NvrtcLibraryName:
                TryLoadNvrtc(out _);
                return Volatile.Read(ref _nvrtc);
            default:
                return 0;
        }
    }

    private static List<string> NvrtcCandidates(List<string> directories)
    {
        var candidates = new List<string>(NvrtcSonames);
        foreach (var directory in directories)
        {
            foreach (var name in NvrtcSonames)
            {
                candidates.Add(Path.Combine(directory, name));
            }
        }
        return candidates;
    }

    private static IEnumerable<string> ToolkitLibraryDirectories()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var variable in ToolkitRootVariables)
        {
            var root = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(root) && seen.Add(Path.Combine(root, "lib64")))
            {
                yield return Path.Combine(root, "lib64");
            }
        }
        if (seen.Add("/usr/local/cuda/lib64"))
        {
            yield return "/usr/local/cuda/lib64";
        }
        var target = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "sbsa-linux" : "x86_64-linux";
        yield return $"/usr/local/cuda/targets/{target}/lib";
    }

    /// <summary>
    /// Loads the first candidate that opens and exports <paramref name="requiredExport"/>.
    /// <paramref name="error"/> stays null when every candidate was simply absent, and otherwise
    /// carries the first failure that was not "no such file" (a broken or foreign library).
    /// </summary>
    private static nint TryLoadFirst(IReadOnlyList<string> candidates, string requiredExport, out string? error, out string? loadedFrom)
    {
        error = null;
        loadedFrom = null;
        foreach (var candidate in candidates)
        {
            // A full path that is not there is skipped without asking the loader.
            if (Path.IsPathRooted(candidate) && !File.Exists(candidate))
            {
                continue;
            }
            nint handle;
            try
            {
                handle = NativeLibrary.Load(candidate);
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                if (!IsNotFound(candidate, ex.Message))
                {
                    error ??= LoaderDetail(ex.Message);
                }
                continue;
            }
            if (!NativeLibrary.TryGetExport(handle, requiredExport, out _))
            {
                error ??= $"{candidate} does not export {requiredExport}";
                NativeLibrary.Free(handle);
                continue;
            }
            loadedFrom = candidate;
            return handle;
        }
        return 0;
    }

    // The runtime prefixes dlerror's text with a paragraph of general advice; keep dlerror's lines.
    private static string LoaderDetail(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length > 1 ? string.Join("; ", lines[1..]) : message;
    }

    // dlerror names the file it could not open; when that is the candidate itself the library is
    // absent, when it is some other name a dependency of an installed library is missing.
    private static bool IsNotFound(string candidate, string message) =>
        message.Contains($"{candidate}: cannot open shared object file: No such file or directory", StringComparison.Ordinal);
}
