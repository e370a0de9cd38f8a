using System.Text;

namespace GpuMux.Bench;

/// <summary>Rows of cells in aligned columns, for the terminal and for raw results files.</summary>
internal static class TextTable
{
    public static void Write(TextWriter writer, IReadOnlyList<string[]> rows, int[] rightAligned)
    {
        var widths = new int[rows.Max(row => row.Length)];
        foreach (var row in rows)
        {
            for (var column = 0; column < row.Length; column++)
            {
                widths[column] = Math.Max(widths[column], row[column].Length);
            }
        }
        var line = new StringBuilder();
        foreach (var row in rows)
        {
            line.Clear();
            for (var column = 0; column < row.Length; column++)
            {
                var cell = row[column];
                var last = column == row.Length - 1;
                line.Append(rightAligned.Contains(column) ? cell.PadLeft(widths[column]) : last ? cell : cell.PadRight(widths[column]));
                if (!last)
                {
                    line.Append("  ");
                }
            }
            writer.WriteLine(line.ToString());
        }
    }
}
