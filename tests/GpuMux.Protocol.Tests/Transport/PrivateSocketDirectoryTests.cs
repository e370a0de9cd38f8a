using System.Runtime.Versioning;
using System.Text;
using GpuMux.Protocol.Transport;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Tests.Transport;

[SupportedOSPlatform("linux")]
public sealed class PrivateSocketDirectoryTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static readonly uint Uid = geteuid();

    [Fact]
    public void An_absent_directory_is_created_for_its_owner_alone()
    {
        using var parent = new TempDirectory();
        var directory = parent.File("gpumuxd-test");

        PrivateSocketDirectory.CreateOrCheck(directory, Uid);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(directory));
    }

    [Fact]
    public void The_users_own_directory_is_used()
    {
        using var parent = new TempDirectory();
        var directory = Directory.CreateDirectory(parent.File("gpumuxd-test"), OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute).FullName;

        PrivateSocketDirectory.CreateOrCheck(directory, Uid);
    }

    [Theory]
    [InlineData("0777", "can be written by everyone (mode 0777)")]
    [InlineData("0770", "can be written by its group (mode 0770)")]
    public void A_directory_others_can_write_to_is_refused_saying_why(string mode, string reason)
    {
        using var parent = new TempDirectory();
        var directory = Directory.CreateDirectory(parent.File("gpumuxd-test")).FullName;
        File.SetUnixFileMode(directory, (UnixFileMode)Convert.ToInt32(mode, 8));

        var refusal = Assert.Throws<InvalidOperationException>(() => PrivateSocketDirectory.CreateOrCheck(directory, Uid));

        Assert.StartsWith($"{directory}, the socket directory used when XDG_RUNTIME_DIR is not set, {reason}; it is not used", refusal.Message);
        Assert.Contains("Socket:Path", refusal.Message);
    }

    [Fact]
    public unsafe void A_directory_of_another_user_is_refused_saying_whose_it_is()
    {
        Assert.SkipUnless(Uid == 0, "only root can give a directory to another user");
        using var parent = new TempDirectory();
        var directory = Directory.CreateDirectory(parent.File("gpumuxd-test"), OwnerOnly).FullName;
        fixed (byte* path = Encoding.UTF8.GetBytes(directory + "\0"))
        {
            Assert.Equal(0, chown(path, 4321, 4321));
        }

        var refusal = Assert.Throws<InvalidOperationException>(() => PrivateSocketDirectory.CreateOrCheck(directory, Uid));

        Assert.Contains($"{directory}, the socket directory used when XDG_RUNTIME_DIR is not set, belongs to uid 4321, not to uid {Uid} who uses it", refusal.Message);
    }

    [Fact]
    public void A_symbolic_link_in_its_place_is_refused()
    {
        using var parent = new TempDirectory();
        var target = Directory.CreateDirectory(parent.File("elsewhere"), OwnerOnly).FullName;
        var directory = parent.File("gpumuxd-test");
        File.CreateSymbolicLink(directory, target);

        var refusal = Assert.Throws<InvalidOperationException>(() => PrivateSocketDirectory.CreateOrCheck(directory, Uid));

        Assert.Contains("is not a directory (a symbolic link or another file)", refusal.Message);
    }

    [Fact]
    public void A_client_finds_nothing_wrong_with_a_directory_that_is_not_there()
    {
        using var parent = new TempDirectory();

        PrivateSocketDirectory.ThrowIfUnsafe(parent.File("gpumuxd-test"), Uid);
    }

    [Fact]
    public void Sockets_outside_the_fallback_directory_are_the_operators_choice()
    {
        using var directory = new TempDirectory();
        File.SetUnixFileMode(directory.Path, (UnixFileMode)Convert.ToInt32("0777", 8));

        SocketPaths.SecureFallbackDirectory(directory.File("d.sock"), create: false);
    }
}
