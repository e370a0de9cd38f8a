using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace GpuMux.Daemon.Tests.Client;

/// <summary>
/// <c>dotnet pack src/GpuMux.Client</c> gives a package a NuGet user can take: the client with the
/// assemblies it bundles, their XML docs, the README and the metadata, and its symbols beside it.
/// It packs what this test run already built (<c>--no-build</c>), in its configuration, which takes
/// seconds.
/// </summary>
public sealed class ClientPackageTests
{
    private const string Configuration =
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    [Fact]
    public async Task The_client_packs_with_its_assemblies_docs_readme_metadata_and_symbols()
    {
        var output = Directory.CreateTempSubdirectory("gmx-pack-");
        try
        {
            var (exitCode, log) = await PackAsync(output.FullName);
            Assert.True(exitCode == 0, log);

            using var package = ZipFile.OpenRead(Assert.Single(output.GetFiles("GpuMux.Client.*.nupkg")).FullName);
            var entries = package.Entries.Select(e => e.FullName).ToHashSet();
            foreach (var assembly in new[] { "GpuMux.Client", "GpuMux.Protocol", "GpuMux.Linux" })
            {
                Assert.Contains($"lib/net10.0/{assembly}.dll", entries);
                Assert.Contains($"lib/net10.0/{assembly}.xml", entries);
            }
            Assert.Contains("README.md", entries);

            var metadata = ReadNuspec(package).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string? Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
            Assert.Equal("GpuMux.Client", Field("id"));
            Assert.Equal("README.md", Field("readme"));
            Assert.False(string.IsNullOrWhiteSpace(Field("description")));
            Assert.False(string.IsNullOrWhiteSpace(Field("tags")));
            Assert.NotNull(metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository")?.Attribute("commit"));
            Assert.Contains(
                metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value),
                id => id == "Tmds.LibC");

            using var symbols = ZipFile.OpenRead(Assert.Single(output.GetFiles("GpuMux.Client.*.snupkg")).FullName);
            Assert.Contains("lib/net10.0/GpuMux.Client.pdb", symbols.Entries.Select(e => e.FullName));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static XDocument ReadNuspec(ZipArchive package)
    {
        using var nuspec = package.Entries.Single(e => e.FullName == "GpuMux.Client.nuspec").Open();
        return XDocument.Load(nuspec);
    }

    private static async Task<(int ExitCode, string Log)> PackAsync(string output)
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            ArgumentList =
            {
                "pack", RepositoryFiles.PathOf("src", "GpuMux.Client"),
                "--no-build", "--no-restore", "-c", Configuration, "-o", output, "-nologo",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var log = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await log + await errors);
    }
}
