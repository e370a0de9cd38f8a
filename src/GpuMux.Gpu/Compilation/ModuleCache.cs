using System.Security.Cryptography;
using System.Text;

namespace GpuMux.Gpu.Compilation;

/// <summary>
/// Compiled modules on disk, addressed by the hash of everything that decides the output: the
/// compiler and its version, the target architecture, the options, the source and its name.
/// Entries are written to a temporary file and renamed, so a reader never sees half of one.
/// </summary>
internal sealed class ModuleCache(string directory)
{
    public string Directory { get; } = directory;

    public static string? DefaultDirectory()
    {
        var explicitDirectory = Environment.GetEnvironmentVariable("GPUMUX_MODULE_CACHE");
        if (explicitDirectory is not null)
        {
            return explicitDirectory.Length == 0 ? null : explicitDirectory;
        }
        var cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cacheHome))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
            {
                return null;
            }
            cacheHome = Path.Combine(home, ".cache");
        }
        return Path.Combine(cacheHome, "gpumuxd", "modules");
    }

    public static string Key(string compilerIdentity, ComputeCapability target, KernelSource source)
    {
        var text = new StringBuilder()
            .Append(compilerIdentity).Append('\0')
            .Append(target.SmName).Append('\0')
            .AppendJoin('\u0001', source.Options).Append('\0')
            .Append(source.Name).Append('\0')
            .Append(source.Code)
            .ToString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    public ModuleImage? TryRead(string key)
    {
        foreach (var kind in Enum.GetValues<ModuleImageKind>())
        {
            var path = PathOf(key, kind);
            if (File.Exists(path))
            {
                try
                {
                    return new ModuleImage(kind, File.ReadAllBytes(path));
                }
                catch (IOException)
                {
                    return null;
                }
            }
        }
        return null;
    }

    /// <summary>Stores an entry; a cache that cannot be written only costs a recompile later, so failures are ignored.</summary>
    public void TryWrite(string key, ModuleImage image)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var path = PathOf(key, image.Kind);
            var temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
            File.WriteAllBytes(temporary, image.Bytes.ToArray());
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private string PathOf(string key, ModuleImageKind kind) =>
        Path.Combine(Directory, kind == ModuleImageKind.Cubin ? $"{key}.cubin" : $"{key}.ptx");
}
