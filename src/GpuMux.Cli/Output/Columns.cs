namespace GpuMux.Cli.Output;

/// <summary>How a column of a <see cref="FittedTable{TRow}"/> lays out its cells.</summary>
internal enum ColumnKind
{
    /// <summary>Words that may wrap where the terminal is narrow (a client's name, a detail).</summary>
    Text,

    /// <summary>A short word, a name or a time that reads wrong when wrapped.</summary>
    Word,

    /// <summary>Figures: right-aligned, never wrapped.</summary>
    Number,
}

internal static class Columns
{
    /// <summary>The worth of a column that always stays, whatever the width: one that says which thing a row is.</summary>
    public const int Always = int.MaxValue;
}
