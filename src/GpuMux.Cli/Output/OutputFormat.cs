namespace GpuMux.Cli.Output;

internal enum OutputFormat
{
    Table,
    Json,
}
