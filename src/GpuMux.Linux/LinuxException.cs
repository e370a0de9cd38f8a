using Tmds.Linux;

namespace GpuMux.Linux;

/// <summary>A failed Linux call: the call's name, its errno and the C library's text for it.</summary>
public sealed class LinuxException(string call, int errno)
    : Exception($"{call} failed: {Describe(errno)} (errno {errno})")
{
    public string Call { get; } = call;

    public int Errno { get; } = errno;

    internal static LinuxException FromLastError(string call) => new(call, LibC.errno);

    private static unsafe string Describe(int errno)
    {
        const int capacity = 256;
        var buffer = stackalloc byte[capacity];
        return LibC.strerror_r(errno, buffer, capacity) == 0 ? new string((sbyte*)buffer) : $"error {errno}";
    }
}
