using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using GpuMux.Gpu.Cuda.Native;

namespace GpuMux.Gpu.Tests.Cuda;

/// <summary>
/// The bindings' ABI, tested against the real headers rather than trusted: a C program built
/// against the installed cuda.h and nvrtc.h prints every constant, enum value, struct size and
/// field offset the C# side declares, and the two must agree. Names newer than the installed
/// headers are reported, not failed. Runs where a CUDA toolkit and a C compiler are present.
/// </summary>
[Trait("Category", "Gpu")]
public sealed partial class CudaAbiTests
{
    [Fact]
    public void Constants_enums_and_struct_layouts_match_the_installed_headers()
    {
        var include = CudaIncludeDirectory();
        Assert.SkipWhen(include is null, "needs cuda.h and nvrtc.h: none under $CUDA_HOME, $CUDA_PATH or /usr/local/cuda");
        var compiler = CCompiler.Find();
        Assert.SkipWhen(compiler is null, "needs a C compiler (cc, gcc or clang) on PATH");

        var expected = ExpectedValues();
        var (actual, absent) = CompileAndRun(compiler!, include!, expected.Keys.ToList());

        var mismatches = expected
            .Where(e => !absent.Contains(e.Key) && (!actual.TryGetValue(e.Key, out var value) || value != e.Value))
            .Select(e => $"{e.Key}: C# {e.Value}, header {(actual.TryGetValue(e.Key, out var v) ? v.ToString() : "missing")}")
            .ToList();
        TestContext.Current.SendDiagnosticMessage($"ABI: {actual.Count} values compared; not in these headers: {string.Join(", ", absent)}");
        Assert.Empty(mismatches);
        Assert.True(actual.Count > expected.Count / 2, $"only {actual.Count} of {expected.Count} names were found in the headers");
    }

    private static Dictionary<string, long> ExpectedValues()
    {
        var values = new Dictionary<string, long>();
        foreach (var type in new[] { typeof(CUresult), typeof(nvrtcResult), typeof(CUdevice_attribute) })
        {
            foreach (var name in Enum.GetNames(type))
            {
                values[name] = Convert.ToInt64(Enum.Parse(type, name), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        foreach (var field in typeof(CudaConstants).GetFields(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
        {
            values[field.Name] = Convert.ToInt64(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
        }
        AddLayout(values, typeof(CUmemLocation), "CUmemLocation");
        AddLayout(values, typeof(CUmemAllocationProp), "CUmemAllocationProp");
        AddLayout(values, typeof(CUmemAccessDesc), "CUmemAccessDesc");
        AddLayout(values, typeof(CUdevice), "CUdevice");
        return values;
    }

    /// <summary>Adds <c>sizeof</c> and the <c>offsetof</c> of every field, recursing into nested structs by C member path.</summary>
    private static void AddLayout(Dictionary<string, long> values, Type type, string cType, string path = "", long baseOffset = 0)
    {
        values[path.Length == 0 ? $"sizeof({cType})" : $"sizeof((({cType}*)0)->{path.TrimEnd('.')})"] = Marshal.SizeOf(type);
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            var offset = baseOffset + Marshal.OffsetOf(type, field.Name).ToInt64();
            values[$"offsetof({cType}, {path}{field.Name})"] = offset;
            var isNestedStruct = field.FieldType.IsValueType && !field.FieldType.IsPrimitive && !field.FieldType.IsEnum
                && field.GetCustomAttribute<System.Runtime.CompilerServices.FixedBufferAttribute>() is null;
            if (isNestedStruct && field.FieldType.Namespace == typeof(CUmemLocation).Namespace)
            {
                AddLayout(values, field.FieldType, cType, $"{path}{field.Name}.", offset);
            }
        }
    }

    /// <summary>Builds and runs the printer, dropping names the compiler says the headers lack and building again.</summary>
    private static (Dictionary<string, long> Values, List<string> Absent) CompileAndRun(string compiler, string include, List<string> expressions)
    {
        var directory = Directory.CreateTempSubdirectory("gpumux-abi-").FullName;
        var source = Path.Combine(directory, "abi.c");
        var program = Path.Combine(directory, "abi");
        var absent = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            File.WriteAllText(source, PrinterSource(expressions.Except(absent)));
            var (exitCode, output) = CCompiler.Run(compiler, $"-I{include} -o {program} {source}");
            if (exitCode == 0)
            {
                var values = CCompiler.Run(program, "").Output
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(line => line.Split('\t'))
                    .ToDictionary(parts => parts[0], parts => long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
                return (values, absent);
            }
            var unknown = UndeclaredName().Matches(output).Select(m => m.Groups["gcc"].Success ? m.Groups["gcc"].Value : m.Groups["clang"].Value).Distinct().ToList();
            Assert.True(unknown.Count > 0, $"the ABI printer did not compile:\n{output}");
            absent.AddRange(unknown);
        }
        throw new InvalidOperationException("the ABI printer still did not compile after dropping unknown names");
    }

    private static string PrinterSource(IEnumerable<string> expressions)
    {
        var code = new StringBuilder("#include <cuda.h>\n#include <nvrtc.h>\n#include <stddef.h>\n#include <stdio.h>\nint main(void)\n{\n");
        foreach (var expression in expressions)
        {
            code.Append($"    printf(\"%s\\t%lld\\n\", \"{expression}\", (long long)({expression}));\n");
        }
        return code.Append("    return 0;\n}\n").ToString();
    }

    private static string? CudaIncludeDirectory() =>
        new[] { Environment.GetEnvironmentVariable("CUDA_HOME"), Environment.GetEnvironmentVariable("CUDA_PATH"), "/usr/local/cuda" }
            .Where(root => !string.IsNullOrEmpty(root))
            .Select(root => Path.Combine(root!, "include"))
            .FirstOrDefault(directory => File.Exists(Path.Combine(directory, "cuda.h")) && File.Exists(Path.Combine(directory, "nvrtc.h")));

    // gcc: 'X' undeclared; clang: use of undeclared identifier 'X'.
    [GeneratedRegex(@"['‘](?<gcc>\w+)['’] undeclared|undeclared identifier ['‘](?<clang>\w+)['’]")]
    private static partial Regex UndeclaredName();
}
