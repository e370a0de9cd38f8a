using System.Diagnostics;
using System.Runtime.Versioning;
using GpuMux.Cli;

namespace GpuMux.Daemon.Tests.Install;

/// <summary>
/// The install steps of docs/configuration.md, as scripts/install.sh runs them, in a scratch root:
/// both binaries installed and working, and no symbols or XML documentation published beside them.
/// Two publishes take minutes, so this runs only when asked (<c>-- --explicit only</c>).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class InstallScriptTests
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(15);

    [Fact(Explicit = true)]
    public async Task The_install_script_installs_both_binaries_and_publishes_neither_symbols_nor_xml()
    {
        var repository = RepositoryFiles.Root;
        var scratch = Directory.CreateTempSubdirectory("gmx-install-");
        try
        {
            // NativeAOT links with clang; without it, the script's self-contained single-file publish.
            var aot = Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(dir => File.Exists(Path.Combine(dir, "clang")));
            var install = await RunAsync(
                Path.Combine(repository, "scripts", "install.sh"), aot ? [] : ["--single-file"], PublishTimeout, ("DESTDIR", scratch.FullName));
            Assert.True(install.ExitCode == 0, install.Output);

            foreach (var file in new[] { "usr/bin/gpumuxd", "usr/bin/gpumuxctl" })
            {
                Assert.True(File.GetUnixFileMode(Path.Combine(scratch.FullName, file)).HasFlag(UnixFileMode.UserExecute), file);
            }

            foreach (var file in new[] { "etc/systemd/system/gpumuxd.service", "etc/systemd/system/gpumuxd.socket", "etc/sysusers.d/gpumuxd.conf", "etc/gpumuxd/gpumuxd.json" })
            {
                Assert.True(File.Exists(Path.Combine(scratch.FullName, file)), file);
            }

            var published = Directory.EnumerateFiles(Path.Combine(repository, "artifacts", "publish"), "*", SearchOption.AllDirectories);
            Assert.DoesNotContain(published, file => Path.GetExtension(file) is ".pdb" or ".xml" or ".dbg");

            await TheInstalledBinariesServeAndAnswerAsync(scratch.FullName);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private static async Task TheInstalledBinariesServeAndAnswerAsync(string root)
    {
        var gpumuxctl = Path.Combine(root, "usr/bin/gpumuxctl");
        var socket = Path.Combine(root, "d.sock");
        Assert.Equal(ExitCodes.CheckFailed, (await RunAsync(gpumuxctl, ["health", "--host", socket], TimeSpan.FromMinutes(1))).ExitCode);

        using var daemon = Process.Start(new ProcessStartInfo(Path.Combine(root, "usr/bin/gpumuxd"))
        {
            ArgumentList = { "--backend", "sim", "--socket", socket, "--Socket:Group=", $"--Device:ModuleCacheDirectory={Path.Combine(root, "modules")}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            while (!File.Exists(socket))
            {
                Assert.False(daemon.HasExited, await daemon.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            var health = await RunAsync(gpumuxctl, ["health", "--host", socket], TimeSpan.FromMinutes(1));
            Assert.True(health.ExitCode == ExitCodes.Ok, health.Output);
        }
        finally
        {
            daemon.Kill();
            await daemon.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(
        string program, string[] arguments, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var error = process.StandardError.ReadToEndAsync(deadline.Token);
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output + await error);
    }
}
