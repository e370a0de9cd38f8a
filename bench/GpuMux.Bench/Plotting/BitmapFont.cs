namespace GpuMux.Bench.Plotting;

/// <summary>
/// A monospaced font for printable ASCII, drawn at a whole-number scale: glyphs 5 pixels wide, capitals
/// and digits 7 tall, and two rows below the baseline for the tails of g, j, p, q, y and the comma.
/// </summary>
internal static class BitmapFont
{
    private const int GlyphWidth = 5;
    private const int CapRows = 7;
    private const int GlyphRows = CapRows + 2;
    private const int Advance = GlyphWidth + 1;
    private const char First = ' ';
    private const char Last = '~';

    /// <summary>Nine rows a glyph, top first, each row two hex digits whose low five bits are its pixels, leftmost in bit 4.</summary>
    private static readonly string[] Glyphs =
    [
        "000000000000000000", "040404040400040000", "0A0A0A000000000000", "0A0A1F0A1F0A0A0000", // space ! " #
        "040F140E051E040000", "181902040813030000", "0C12140815120D0000", "040408000000000000", // $ % & '
        "020408080804020000", "080402020204080000", "0004150E1504000000", "0004041F0404000000", // ( ) * +
        "00000000000C0C0408", "0000001F0000000000", "00000000000C0C0000", "000102040810000000", // , - . /
        "0E11131519110E0000", "040C040404040E0000", "0E11010204081F0000", "1F02040201110E0000", // 0 1 2 3
        "02060A121F02020000", "1F101E0101110E0000", "0608101E11110E0000", "1F0102040808080000", // 4 5 6 7
        "0E11110E11110E0000", "0E11110F01020C0000", "000C0C000C0C000000", "000C0C00000C0C0408", // 8 9 : ;
        "020408100804020000", "00001F001F00000000", "080402010204080000", "0E1101020400040000", // < = > ?
        "0E11010D15150E0000", "0E11111F1111110000", "1E11111E11111E0000", "0E11101010110E0000", // @ A B C
        "1C12111111121C0000", "1F10101E10101F0000", "1F10101E1010100000", "0E11101711110F0000", // D E F G
        "1111111F1111110000", "0E04040404040E0000", "0702020202120C0000", "111214181412110000", // H I J K
        "1010101010101F0000", "111B15151111110000", "111119151311110000", "0E11111111110E0000", // L M N O
        "1E11111E1010100000", "0E11111115120D0000", "1E11111E1412110000", "0F10100E01011E0000", // P Q R S
        "1F0404040404040000", "1111111111110E0000", "11111111110A040000", "1111111515150A0000", // T U V W
        "11110A040A11110000", "11110A040404040000", "1F01020408101F0000", "0E08080808080E0000", // X Y Z [
        "001008040201000000", "0E02020202020E0000", "040A11000000000000", "000000000000001F00", // \ ] ^ _
        "080402000000000000", "00000E010F110F0000", "1010161911111E0000", "00000E1010110E0000", // ` a b c
        "01010D1311110F0000", "00000E111F100E0000", "0608081C0808080000", "00000F1111110F010E", // d e f g
        "101016191111110000", "04000C0404040E0000", "02000602020202120C", "101012141814120000", // h i j k
        "0C04040404040E0000", "00001A151511110000", "000016191111110000", "00000E1111110E0000", // l m n o
        "00001E1111111E1010", "00000F1111110F0101", "000016191010100000", "00000F100E011E0000", // p q r s
        "08081E080808060000", "0000111111130D0000", "00001111110A040000", "0000111115150A0000", // t u v w
        "0000110A040A110000", "0000111111110F010E", "00001F0204081F0000", "020404080404020000", // x y z {
        "040404040404040000", "080404020404080000", "000008150200000000", // | } ~
    ];

    /// <summary>The height of capitals and digits, the part that text is centred by.</summary>
    public static int CapHeight(int scale) => CapRows * scale;

    /// <summary>The height including descenders, the room a line of text takes.</summary>
    public static int LineHeight(int scale) => GlyphRows * scale;

    public static int MeasureWidth(string text, int scale) => text.Length == 0 ? 0 : (text.Length * Advance - 1) * scale;

    public static void Draw(Raster raster, string text, int left, int top, int scale, Rgb colour) =>
        DrawGlyphs(raster, text, colour, (column, row) => new PixelRect(left + column * scale, top + row * scale, scale, scale));

    /// <summary>Text turned a quarter turn anticlockwise, reading upwards from <paramref name="bottom"/>, as a vertical axis title.</summary>
    public static void DrawUpward(Raster raster, string text, int left, int bottom, int scale, Rgb colour) =>
        DrawGlyphs(raster, text, colour, (column, row) => new PixelRect(left + row * scale, bottom - (column + 1) * scale, scale, scale));

    /// <summary>Fills the cell that <paramref name="place"/> gives for every set pixel, by its column along the text and its row down the glyph.</summary>
    private static void DrawGlyphs(Raster raster, string text, Rgb colour, Func<int, int, PixelRect> place)
    {
        for (var index = 0; index < text.Length; index++)
        {
            var glyph = Glyphs[(text[index] is >= First and <= Last ? text[index] : '?') - First];
            for (var row = 0; row < GlyphRows; row++)
            {
                var bits = Convert.ToInt32(glyph.Substring(row * 2, 2), 16);
                for (var column = 0; column < GlyphWidth; column++)
                {
                    if ((bits & (1 << (GlyphWidth - 1 - column))) != 0)
                    {
                        raster.FillRect(place(index * Advance + column, row), colour);
                    }
                }
            }
        }
    }
}
