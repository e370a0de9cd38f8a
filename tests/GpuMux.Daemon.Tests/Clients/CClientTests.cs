using System.Diagnostics;
using GpuMux.Daemon.Tests.EndToEnd;

namespace GpuMux.Daemon.Tests.Clients;

/// <summary>
/// libgpumux (clients/c): configured and built with CMake in a temporary directory, its CTest
/// suite (tests, example and the common scenario, under AddressSanitizer and UBSan) run against a
/// real daemon on the Sim. Skipped where cc, cmake or ctest is missing.
/// </summary>
public sealed class CClientTests
{
    [Fact]
    public async Task The_C_library_builds_warning_free_and_passes_its_tests_against_a_Sim_daemon()
    {
        var missing = new[] { "cc", "cmake", "ctest" }.Where(tool => !OnPath(tool)).ToArray();
        Assert.SkipWhen(missing.Length > 0, $"needs {string.Join(", ", missing)} on PATH to build and test clients/c");
        var build = Directory.CreateTempSubdirectory("gpumux-c-");
        try
        {
            var source = RepositoryFiles.PathOf("clients", "c");
            await RunAsync("cmake", ["-S", source, "-B", build.FullName, "-DCMAKE_BUILD_TYPE=Debug", "-DGPUMUX_C_TESTS=ON", "-DGPUMUX_SANITIZE=ON"]);
            await RunAsync("cmake", ["--build", build.FullName, "--parallel", "2"]);

            await using var daemon = await TestDaemon.StartAsync(TestDaemon.TrustingModules);
            var output = await RunAsync("ctest", ["--test-dir", build.FullName, "--output-on-failure", "--timeout", "60"], ("GPUMUX_HOST", $"unix:{daemon.SocketPath}"));

            // A test that found no daemon would be skipped, not failed: none may be.
            Assert.DoesNotContain("Skipped", output, StringComparison.Ordinal);
            Assert.Contains("100% tests passed", output, StringComparison.Ordinal);
        }
        finally
        {
            build.Delete(recursive: true);
        }
    }

    /// <summary>Runs a tool to its end and returns what it printed; one that fails fails the test with that output.</summary>
    private static async Task<string> RunAsync(string program, string[] arguments, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["LC_ALL"] = "C";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var text = await output + await error;
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{text}");
        return text;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(directory => File.Exists(Path.Combine(directory, program)));
}
