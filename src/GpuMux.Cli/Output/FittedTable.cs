using Spectre.Console;
using Spectre.Console.Rendering;

namespace GpuMux.Cli.Output;

/// <summary>
/// A table that fits the terminal the way <c>nvidia-smi</c> and <c>systemctl status</c> do: where
/// its columns are wider than the terminal, the least useful go, one by one, until the rest fit;
/// the ones that name things (ids, pids, uids) always stay and are never cut. A terminal of
/// unbounded width (<c>-o wide</c>, or output to a file or a pipe) keeps every column.
/// </summary>
internal sealed class FittedTable<TRow>
{
    private readonly List<Column> _columns = [];

    /// <param name="keep">How much the column is worth keeping: higher stays longer; <see cref="Columns.Always"/> always stays.</param>
    public FittedTable<TRow> Add(string header, ColumnKind kind, int keep, Func<TRow, IRenderable> cell)
    {
        _columns.Add(new Column(header, kind, keep, cell));
        return this;
    }

    /// <summary>The table of the columns that fit <paramref name="console"/>'s width, and the names of those left out.</summary>
    public (Table Table, IReadOnlyList<string> LeftOut) Fit(IAnsiConsole console, IReadOnlyList<TRow> rows)
    {
        var shown = _columns.ToList();
        var options = RenderOptions.Create(console, console.Profile.Capabilities);
        var table = Build(shown, rows);
        while (NaturalWidth(table, options) > console.Profile.Width
            && shown.Where(column => column.Keep != Columns.Always).MinBy(column => column.Keep) is { } least)
        {
            shown.Remove(least);
            table = Build(shown, rows);
        }

        return (table, [.. _columns.Except(shown).Select(column => column.Header)]);
    }

    /// <summary>Writes the fitted table, then a line naming the columns it left out, if any.</summary>
    public void Write(IAnsiConsole console, IReadOnlyList<TRow> rows)
    {
        var (table, leftOut) = Fit(console, rows);
        console.Write(table);
        if (leftOut.Count > 0)
        {
            console.Write(new Text($"Not shown at this width: {string.Join(", ", leftOut)} (-o wide shows every column).", new Style(decoration: Decoration.Dim)));
            console.WriteLine();
        }
    }

    // Wider than any terminal, and far enough from int.MaxValue for Spectre's arithmetic on it.
    private const int Unbounded = 1 << 20;

    // The width the table takes when nothing in it wraps or is cut.
    private static int NaturalWidth(Table table, RenderOptions options) => ((IRenderable)table).Measure(options, Unbounded).Max;

    private static Table Build(List<Column> columns, IReadOnlyList<TRow> rows)
    {
        var table = new Table();
        foreach (var column in columns)
        {
            table.AddColumn(column.Kind switch
            {
                ColumnKind.Number => new TableColumn(Markup.Escape(column.Header)).RightAligned().NoWrap(),
                ColumnKind.Word => new TableColumn(Markup.Escape(column.Header)).NoWrap(),
                _ => new TableColumn(Markup.Escape(column.Header)),
            });
        }

        foreach (var row in rows)
        {
            table.AddRow(columns.Select(column => column.Cell(row)));
        }

        return table;
    }

    private sealed record Column(string Header, ColumnKind Kind, int Keep, Func<TRow, IRenderable> Cell);
}
