namespace GpuMux.Protocol.Tests;

public sealed class SocketPathsTests
{
    [Theory]
    [InlineData("unix:/run/gpumuxd/gpumuxd.sock", "/run/gpumuxd/gpumuxd.sock")]
    [InlineData("/tmp/x/gpumuxd.sock", "/tmp/x/gpumuxd.sock")]
    public void A_host_is_a_path_with_or_without_the_unix_scheme(string host, string path) =>
        Assert.Equal(path, SocketPaths.ResolveClientPath(host));

    [Theory]
    [InlineData("tcp://127.0.0.1:9000")]
    [InlineData("unix:")]
    public void Anything_else_is_refused_with_the_expected_form(string host)
    {
        var error = Assert.Throws<FormatException>(() => SocketPaths.ResolveClientPath(host));
        Assert.Contains("unix:/path", error.Message);
    }
}
