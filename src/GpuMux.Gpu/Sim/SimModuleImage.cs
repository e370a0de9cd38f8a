using System.Text;
using System.Text.RegularExpressions;

namespace GpuMux.Gpu.Sim;

/// <summary>
/// The simulated device's module format: a header and the names of the kernels the module
/// holds. It stands where a cubin would; PTX is read for its entry points.
/// </summary>
internal static partial class SimModuleImage
{
    private const string Magic = "GPUMUX-SIM-MODULE 1\n";

    public static ModuleImage Create(IEnumerable<string> entryPoints) =>
        new(ModuleImageKind.Cubin, Encoding.UTF8.GetBytes(Magic + string.Join('\n', entryPoints)));

    public static IReadOnlyList<string> EntryPoints(ModuleImage image)
    {
        var text = Encoding.UTF8.GetString(image.Bytes.Span).TrimEnd('\0');
        if (image.Kind == ModuleImageKind.Ptx)
        {
            return text.Contains(".version", StringComparison.Ordinal)
                ? [.. PtxEntry().Matches(text).Select(m => m.Groups[1].Value)]
                : throw new GpuException(GpuStatus.InvalidImage, "not PTX: no .version directive");
        }
        return text.StartsWith(Magic, StringComparison.Ordinal)
            ? text[Magic.Length..].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            : throw new GpuException(GpuStatus.InvalidImage, "not a module for the simulated device: a cubin holds machine code for a real GPU");
    }

    [GeneratedRegex(@"\.entry\s+([A-Za-z_$%][\w$]*)")]
    private static partial Regex PtxEntry();
}
