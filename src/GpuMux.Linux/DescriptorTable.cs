using System.Runtime.InteropServices;

namespace GpuMux.Linux;

/// <summary>This process's table of open file descriptors: how many it may hold, and how many it holds.</summary>
public static unsafe partial class DescriptorTable
{
    private const int RlimitNofile = 7;

    /// <summary>
    /// The soft limit on open descriptors (<c>RLIMIT_NOFILE</c>): one more <c>open</c>,
    /// <c>accept</c> or <c>pipe</c> fails with EMFILE. The .NET runtime raises it to the hard limit
    /// as it starts, so this is the hard limit too. <see cref="int.MaxValue"/> when unlimited.
    /// </summary>
    public static int Limit()
    {
        ResourceLimit limit;
        if (getrlimit(RlimitNofile, &limit) != 0)
        {
            throw new LinuxException("getrlimit(RLIMIT_NOFILE)", Marshal.GetLastPInvokeError());
        }
        return limit.Current >= int.MaxValue ? int.MaxValue : (int)limit.Current;
    }

    /// <summary>The descriptors open now, counted in <c>/proc/self/fd</c> (less the one that lists it).</summary>
    public static int OpenCount() => Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() - 1;

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int getrlimit(int resource, ResourceLimit* limit);

    /// <summary>glibc's <c>struct rlimit</c> on 64-bit Linux; <c>RLIM_INFINITY</c> is all ones.</summary>
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
