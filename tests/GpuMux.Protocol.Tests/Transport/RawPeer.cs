using System.Runtime.InteropServices;
using GpuMux.Linux;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Tests.Transport;

/// <summary>
/// The far end of a socket pair driven with plain blocking send and sendmsg, so a test decides
/// exactly how bytes and descriptors are split across calls, rules broken included.
/// </summary>
internal sealed unsafe class RawPeer(int descriptor) : IDisposable
{
    private int _descriptor = descriptor;

    public void Send(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* data = bytes)
        {
            var sent = 0;
            while (sent < bytes.Length)
            {
                long result = send(_descriptor, data + sent, bytes.Length - sent, MSG_NOSIGNAL);
                if (result < 0)
                {
                    if (errno == EINTR)
                    {
                        continue;
                    }

                    throw new LinuxException("send", errno);
                }

                sent += (int)result;
            }
        }
    }

    /// <summary>One sendmsg with any number of descriptors (the protocol allows 4); a short write's rest follows plainly.</summary>
    public void SendWithDescriptors(ReadOnlySpan<byte> bytes, params ReadOnlySpan<SafeHandle> descriptors)
    {
        var controlLength = CMSG_SPACE(descriptors.Length * sizeof(int));
        var control = stackalloc ulong[(controlLength + 7) / 8];
        var header = (cmsghdr*)control;
        header->cmsg_len = CMSG_ALIGN(SizeOf.cmsghdr) + (descriptors.Length * sizeof(int));
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        var slots = (int*)CMSG_DATA(header);

        var added = 0;
        long sent;
        try
        {
            for (; added < descriptors.Length; added++)
            {
                var success = false;
                descriptors[added].DangerousAddRef(ref success);
                slots[added] = (int)descriptors[added].DangerousGetHandle();
            }

            fixed (byte* data = bytes)
            {
                var vector = new iovec { iov_base = data, iov_len = bytes.Length };
                var message = new msghdr { msg_iov = &vector, msg_iovlen = 1, msg_control = control, msg_controllen = controlLength };
                do
                {
                    sent = sendmsg(_descriptor, &message, MSG_NOSIGNAL);
                }
                while (sent < 0 && errno == EINTR);
            }

            if (sent < 0)
            {
                throw new LinuxException("sendmsg", errno);
            }
        }
        finally
        {
            for (var i = 0; i < added; i++)
            {
                descriptors[i].DangerousRelease();
            }
        }

        Send(bytes[(int)sent..]);
    }

    public void ShutdownWrite() => shutdown(_descriptor, SHUT_WR);

    public void Dispose()
    {
        var descriptor = Interlocked.Exchange(ref _descriptor, -1);
        if (descriptor >= 0)
        {
            close(descriptor);
        }
    }
}
