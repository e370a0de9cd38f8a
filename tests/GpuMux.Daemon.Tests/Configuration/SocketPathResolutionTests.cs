using GpuMux.Daemon.Configuration;
using GpuMux.Protocol;

namespace GpuMux.Daemon.Tests.Configuration;

public sealed class SocketPathResolutionTests
{
    [Fact]
    public void Root_listens_on_the_system_socket()
    {
        Assert.Equal("/run/gpumuxd/gpumuxd.sock", SocketPaths.DefaultPath(privileged: true, "/run/user/0", 0));
    }

    [Fact]
    public void A_user_listens_in_the_runtime_directory()
    {
        Assert.Equal("/run/user/1000/gpumuxd.sock", SocketPaths.DefaultPath(privileged: false, "/run/user/1000", 1000));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_user_without_a_runtime_directory_listens_in_a_directory_of_their_own_under_tmp(string? runtimeDirectory)
    {
        Assert.Equal("/tmp/gpumuxd-1000/gpumuxd.sock", SocketPaths.DefaultPath(privileged: false, runtimeDirectory, 1000));
    }

    [Fact]
    public void A_configured_path_is_used_as_it_is()
    {
        Assert.Equal("/srv/gpu.sock", new SocketOptions { Path = "/srv/gpu.sock" }.ResolvedPath);
    }

    [Fact]
    public void An_empty_path_means_the_default()
    {
        Assert.Equal(SocketPaths.DefaultPath(), new SocketOptions().ResolvedPath);
    }
}
