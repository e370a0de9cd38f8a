using System.Globalization;
using System.Runtime.CompilerServices;
using GpuMux.Gpu.Tests.Cuda;
using GpuMux.Linux;

namespace GpuMux.Gpu.Tests.Linux;

/// <summary>
/// What GpuMux.Linux declares itself rather than taking from Tmds.LibC, tested against the
/// installed C headers: <c>struct statfs</c>'s layout and the file systems' magic numbers that
/// decide which descriptors a client may hand over. Runs where a C compiler is present.
/// </summary>
public sealed class LinuxAbiTests
{
    [Fact]
    public void The_statfs_layout_and_the_file_system_magic_numbers_match_the_installed_headers()
    {
        var compiler = CCompiler.Find();
        Assert.SkipWhen(compiler is null, "needs a C compiler (cc, gcc or clang) on PATH");
        var directory = Directory.CreateTempSubdirectory("gpumux-linux-abi-").FullName;
        var source = Path.Combine(directory, "abi.c");
        var program = Path.Combine(directory, "abi");
        File.WriteAllText(source, """
            #include <linux/magic.h>
            #include <stddef.h>
            #include <stdio.h>
            #include <sys/vfs.h>
            int main(void)
            {
                printf("%zu %zu %zu %lld %lld %lld %lld\n", sizeof(struct statfs), offsetof(struct statfs, f_type),
                    sizeof(((struct statfs*)0)->f_type), (long long)TMPFS_MAGIC, (long long)HUGETLBFS_MAGIC,
                    (long long)FUSE_SUPER_MAGIC, (long long)ANON_INODE_FS_MAGIC);
                return 0;
            }
            """);

        var (exitCode, output) = CCompiler.Run(compiler!, $"-o {program} {source}");
        Assert.True(exitCode == 0, $"the ABI printer did not compile:\n{output}");
        var values = CCompiler.Run(program, "").Output.Split(' ', StringSplitOptions.TrimEntries).Select(v => long.Parse(v, CultureInfo.InvariantCulture));

        Assert.Equal(
            [Unsafe.SizeOf<FileDescriptors.StatFs>(), 0, sizeof(long), FileSystems.Tmpfs, FileSystems.Hugetlbfs, FileSystems.Fuse, FileSystems.AnonymousInodes],
            values);
        Directory.Delete(directory, recursive: true);
    }
}
