using GpuMux.Daemon.Configuration;

namespace GpuMux.Daemon.Tests.Configuration;

public sealed class OctalFileModeTests
{
    private const UnixFileMode UserAndGroupReadWrite =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    [Theory]
    [InlineData("0660")]
    [InlineData("660")]
    public void A_mode_is_read_as_octal_with_or_without_the_leading_zero(string text)
    {
        Assert.True(OctalFileMode.TryParse(text, out var mode));
        Assert.Equal(UserAndGroupReadWrite, mode);
    }

    [Theory]
    [InlineData("0", UnixFileMode.None)]
    [InlineData("0600", UnixFileMode.UserRead | UnixFileMode.UserWrite)]
    [InlineData("0777", (UnixFileMode)0b111_111_111)]
    [InlineData("0007", UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)]
    public void Each_digit_is_one_class_of_users(string text, UnixFileMode expected)
    {
        Assert.Equal(expected, OctalFileMode.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("0868")]
    [InlineData("rw-rw----")]
    [InlineData("-660")]
    [InlineData(" 660")]
    [InlineData("00660")]
    [InlineData("4660")]
    [InlineData("1777")]
    public void Anything_but_permission_bits_in_octal_is_refused(string? text)
    {
        Assert.False(OctalFileMode.TryParse(text, out _));
    }

    [Fact]
    public void Parse_names_the_bad_text()
    {
        var error = Assert.Throws<FormatException>(() => OctalFileMode.Parse("0868"));

        Assert.Equal("'0868' is not an octal permission mode such as 0660.", error.Message);
    }
}
