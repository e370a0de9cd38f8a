using System.Diagnostics.CodeAnalysis;
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

    /// <summary>The newest NVRTC major these bindings are written against; none newer is probed.</summary>
    internal const int NewestNvrtcMajor = 13;

    private const string DriverSoname = "libcuda.so.1";

    // CUDA 12 and later use the major version alone as the soname suffix; CUDA 11.x shipped
    // libnvrtc.so.11.2 (11.2 onwards), .11.1 and .11.0 instead.
    private static readonly string[] Nvrtc11Sonames = ["libnvrtc.so.11", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0"];

    // A development install's link, whose version only the library itself can tell.
    private const string UnversionedNvrtc = "libnvrtc.so";

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
                var handle = TryLoadFirst([DriverSoname, "libcuda.so"], "cuInit", reject: null, out var loadError, out _);
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

    /// <summary>
    /// Loads the newest NVRTC no newer than the <paramref name="driver"/>'s CUDA major: the driver
    /// cannot load the PTX or cubins of a newer NVRTC. Where the only NVRTC installed is newer,
    /// the reason says so, naming both versions.
    /// </summary>
    internal static bool TryLoadNvrtc(Version driver, [NotNullWhen(false)] out string? reason)
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
                var usable = NvrtcSonames(driver.Major);
                // The newer ones come last, only to be found and refused, so that the reason can
                // name the NVRTC that is there rather than say there is none.
                List<string> candidates = [.. InDirectories(usable, directories), .. InDirectories(NewerNvrtcSonames(driver.Major), directories)];
                var handle = LoadNvrtc(candidates, driver, out var loadError, out var loadedFrom);
                if (handle == 0)
                {
                    reason = loadError is null
                        ? $"libnvrtc not found: no NVRTC for the CUDA {driver} driver ({string.Join(", ", usable)} are neither on the library path nor in {string.Join(", ", directories)})"
                        : $"no usable libnvrtc: {loadError}";
                    return false;
                }
                Volatile.Write(ref _nvrtcPath, loadedFrom);
                Volatile.Write(ref _nvrtc, handle);
            }
        }
        reason = _resolverFailure;
        return reason is null;
    }

    /// <summary>
    /// The NVRTC sonames to try under a driver of CUDA major <paramref name="driverMajor"/>, newest
    /// first and none newer than the driver (CUDA 11's under an 11.x driver only), then the
    /// unversioned link, whose version is checked once it is loaded.
    /// </summary>
    internal static IReadOnlyList<string> NvrtcSonames(int driverMajor)
    {
        var sonames = new List<string>();
        for (var major = Math.Min(driverMajor, NewestNvrtcMajor); major >= 12; major--)
        {
            sonames.Add($"libnvrtc.so.{major}");
        }
        if (driverMajor >= 11)
        {
            sonames.AddRange(Nvrtc11Sonames);
        }
        sonames.Add(UnversionedNvrtc);
        return sonames;
    }

    /// <summary>The sonames of the NVRTC majors newer than the driver, newest first.</summary>
    internal static IReadOnlyList<string> NewerNvrtcSonames(int driverMajor) =>
        [.. NvrtcSonames(NewestNvrtcMajor).Except(NvrtcSonames(driverMajor))];

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        // Returning 0 lets the runtime fall back to its own probing, which then fails with a
        // DllNotFoundException at the call: callers are expected to have asked TryLoad* first.
        // NVRTC is never loaded from here, since which one may be used depends on the driver.
        switch (libraryName)
        {
            case DriverLibraryName:
                TryLoadDriver(out _);
                return Volatile.Read(ref _driver);
            case NvrtcLibraryName:
                return Volatile.Read(ref _nvrtc);
            default:
                return 0;
        }
    }

    /// <summary>Each soname as the loader finds it, then in each toolkit directory.</summary>
    private static IEnumerable<string> InDirectories(IReadOnlyList<string> sonames, List<string> directories) =>
        sonames.Concat(directories.SelectMany(directory => sonames.Select(soname => Path.Combine(directory, soname))));

    /// <summary>
    /// The first of <paramref name="candidates"/> that loads and is an NVRTC no newer than the
    /// <paramref name="driver"/>'s major, or 0 with the first failure or refusal in
    /// <paramref name="error"/>. Touches none of this class's state, so a probe can be tested.
    /// </summary>
    internal static nint LoadNvrtc(IReadOnlyList<string> candidates, Version driver, out string? error, out string? loadedFrom) =>
        TryLoadFirst(candidates, "nvrtcVersion", (candidate, nvrtcVersion) => CheckVersion(candidate, nvrtcVersion, driver), out error, out loadedFrom);

    /// <summary>Why an NVRTC of <paramref name="nvrtc"/> cannot serve the <paramref name="driver"/>, or null if it can.</summary>
    internal static string? NewerThanDriver(string candidate, Version nvrtc, Version driver) =>
        nvrtc.Major > driver.Major
            ? $"NVRTC {nvrtc} ({candidate}) is newer than the CUDA {driver} driver, which cannot load what it compiles"
            : null;

    // Asked through the candidate's own export: the "nvrtc" binding resolves only to the library
    // finally chosen.
    private static unsafe string? CheckVersion(string candidate, nint nvrtcVersion, Version driver)
    {
        int major, minor;
        return ((delegate* unmanaged<int*, int*, nvrtcResult>)nvrtcVersion)(&major, &minor) == nvrtcResult.NVRTC_SUCCESS
            ? NewerThanDriver(candidate, new Version(major, minor), driver)
            : $"{candidate}: nvrtcVersion failed";
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
    /// Loads the first candidate that opens, exports <paramref name="requiredExport"/> and is not
    /// refused by <paramref name="reject"/> (given the candidate and the export's address, it
    /// returns why not, or null). <paramref name="error"/> stays null when every candidate was
    /// simply absent, and otherwise carries the first failure that was not "no such file" (a
    /// broken, foreign or refused library).
    /// </summary>
    private static nint TryLoadFirst(IReadOnlyList<string> candidates, string requiredExport, Func<string, nint, string?>? reject, out string? error, out string? loadedFrom)
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
            if (!NativeLibrary.TryGetExport(handle, requiredExport, out var export))
            {
                error ??= $"{candidate} does not export {requiredExport}";
                NativeLibrary.Free(handle);
                continue;
            }
            if (reject?.Invoke(candidate, export) is { } refusal)
            {
                error ??= refusal;
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
