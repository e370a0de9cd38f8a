namespace GpuMux.Cli.Output;

internal enum OutputFormat
{
    /// <summary>Tables that fit the terminal, leaving out their least useful columns where it is narrow.</summary>
    Table,

    /// <summary>Every column, however wide the lines get.</summary>
    Wide,

    Json,
}
