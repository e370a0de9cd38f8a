using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Robustness.Linux;

/// <summary>
/// sendmsg with SCM_RIGHTS for any number of descriptors up to <see cref="MaxDescriptors"/>: the
/// product's own sender stops at the protocol's four, and the suite must also send more.
/// </summary>
internal static unsafe class DescriptorSender
{
    public const int MaxDescriptors = 8;

    // Computed by hand: Tmds.LibC 0.5.0's CMSG_LEN rounds the whole length up, glibc's does not.
    private static readonly int HeaderBytes = CMSG_ALIGN(SizeOf.cmsghdr);

    /// <summary>
    /// Sends what the socket takes of <paramref name="bytes"/> now, with the descriptors on its
    /// first byte. Returns the byte count, or the negated errno (-EAGAIN when the buffer is full).
    /// </summary>
    public static int Send(Socket socket, ReadOnlySpan<byte> bytes, IReadOnlyList<SafeHandle> descriptors)
    {
        if (descriptors.Count is 0 or > MaxDescriptors)
        {
            throw new ArgumentOutOfRangeException(nameof(descriptors), descriptors.Count, $"1 to {MaxDescriptors} descriptors");
        }

        var control = stackalloc ulong[(CMSG_SPACE(MaxDescriptors * sizeof(int)) + sizeof(ulong) - 1) / sizeof(ulong)];
        var header = (cmsghdr*)control;
        header->cmsg_len = HeaderBytes + (descriptors.Count * sizeof(int));
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        var slots = (int*)CMSG_DATA(header);
        var added = 0;
        try
        {
            for (; added < descriptors.Count; added++)
            {
                var ignored = false;
                descriptors[added].DangerousAddRef(ref ignored);
                slots[added] = (int)descriptors[added].DangerousGetHandle();
            }

            fixed (byte* data = bytes)
            {
                var vector = new iovec { iov_base = data, iov_len = bytes.Length };
                var message = new msghdr
                {
                    msg_iov = &vector,
                    msg_iovlen = 1,
                    msg_control = control,
                    msg_controllen = CMSG_SPACE(descriptors.Count * sizeof(int)),
                };
                long sent;
                do
                {
                    sent = sendmsg((int)socket.Handle, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
                }
                while (sent < 0 && errno == EINTR);

                return sent < 0 ? -errno : (int)sent;
            }
        }
        finally
        {
            for (var i = 0; i < added; i++)
            {
                descriptors[i].DangerousRelease();
            }
        }
    }
}
