using System.Globalization;
using System.Text;
using GpuMux.Gpu;

namespace GpuMux.Bench;

/// <summary>
/// A raw results file, <c>{command}-{utc start}-{backend}.md</c>: a title, then sections whose
/// tables are fenced so that their columns stay aligned when rendered.
/// </summary>
internal sealed class ResultsFile : IDisposable
{
    private readonly StreamWriter _writer;

    private ResultsFile(string path, StreamWriter writer)
    {
        Path = path;
        _writer = writer;
    }

    public string Path { get; }

    public static ResultsFile Create(string directory, string command, DateTime startedUtc, GpuBackendKind backend, string title)
    {
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.Combine(directory, PathStem(command, startedUtc, backend) + ".md");
        var file = new ResultsFile(path, new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)));
        file._writer.WriteLine($"# {title}");
        return file;
    }

    /// <summary>The file's name without its extension, for files written beside it (a chart).</summary>
    public static string PathStem(string command, DateTime startedUtc, GpuBackendKind backend) =>
        string.Create(CultureInfo.InvariantCulture, $"{command}-{startedUtc:yyyyMMdd-HHmmss}-{backend.ToString().ToLowerInvariant()}");

    /// <summary>A fenced block, under a heading when <paramref name="heading"/> is given.</summary>
    public void Section(string? heading, Action<TextWriter> write)
    {
        _writer.WriteLine();
        if (heading is not null)
        {
            _writer.WriteLine($"## {heading}");
            _writer.WriteLine();
        }
        _writer.WriteLine("```");
        write(_writer);
        _writer.WriteLine("```");
    }

    /// <summary>A paragraph under a heading, for what a table cannot say: an image, a note.</summary>
    public void Paragraph(string heading, string text)
    {
        _writer.WriteLine();
        _writer.WriteLine($"## {heading}");
        _writer.WriteLine();
        _writer.WriteLine(text);
    }

    public void Dispose() => _writer.Dispose();
}
