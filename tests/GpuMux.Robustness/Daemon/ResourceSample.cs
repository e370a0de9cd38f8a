using System.Globalization;

namespace GpuMux.Robustness.Daemon;

/// <summary>What a process holds, from /proc: resident memory, open descriptors, threads and memory mappings.</summary>
internal readonly record struct ResourceSample(long RssBytes, int Descriptors, int Threads, int Mappings)
{
    /// <summary>Reads /proc/<paramref name="pid"/>; null when the process has gone.</summary>
    public static ResourceSample? Of(int pid)
    {
        try
        {
            long rss = 0;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                // "VmRSS:	   57868 kB" and "Threads:	19"
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line["VmRSS:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture) * 1024;
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
                }
            }

            var descriptors = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count();
            var mappings = File.ReadLines($"/proc/{pid}/maps").Count();
            return new ResourceSample(rss, descriptors, threads, mappings);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
