using Tmds.Linux;

namespace GpuMux.Linux;

internal static class Retry
{
    /// <summary>Repeats a call that a signal interrupted (EINTR); any other failure becomes a <see cref="LinuxException"/>.</summary>
    public static int OnInterrupt(Func<int> call, string name)
    {
        while (true)
        {
            var result = call();
            if (result >= 0)
            {
                return result;
            }
            var errno = LibC.errno;
            if (errno != LibC.EINTR)
            {
                throw new LinuxException(name, errno);
            }
        }
    }
}
