using System.Net.Sockets;
using System.Runtime.InteropServices;
using GpuMux.Protocol.Framing;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// sendmsg and recvmsg with SCM_RIGHTS, which .NET's Socket has no API for. Both are non-blocking
/// (MSG_DONTWAIT): waiting is left to the caller.
/// </summary>
internal static unsafe class SocketMessages
{
    // Room for exactly MaxDescriptors: a peer that sends more gets MSG_CTRUNC, which the receiver
    // treats as a protocol violation (the kernel closes the ones that did not fit).
    private static readonly int ControlBytes = CMSG_SPACE(FrameHeader.MaxDescriptors * sizeof(int));

    // Tmds.LibC 0.5.0's CMSG_LEN rounds the whole length up to alignment, where glibc's does not: a
    // message with one or three descriptors would announce one more than it holds.
    private static readonly int ControlHeaderBytes = CMSG_ALIGN(SizeOf.cmsghdr);

    /// <summary>SCM_MAX_FD: the most descriptors one message may carry.</summary>
    public const int MaxSendDescriptors = 253;

    /// <summary>
    /// Receives what is queued, up to <paramref name="buffer"/>'s length, with the descriptors that
    /// came with it. Returns the byte count (0 at end of stream) or the negated errno (-EAGAIN when
    /// nothing is queued); EINTR is retried.
    /// </summary>
    public static int Receive(
        SafeSocketHandle socket,
        Span<byte> buffer,
        Span<int> descriptors,
        out int descriptorCount,
        out bool descriptorsTruncated)
    {
        descriptorCount = 0;
        var control = stackalloc ulong[(ControlBytes + sizeof(ulong) - 1) / sizeof(ulong)];
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            fixed (byte* data = buffer)
            {
                var vector = new iovec { iov_base = data, iov_len = buffer.Length };
                var message = new msghdr { msg_iov = &vector, msg_iovlen = 1, msg_control = control, msg_controllen = ControlBytes };
                long received;
                do
                {
                    // MSG_CMSG_CLOEXEC: a descriptor must not leak into a process this one spawns
                    // between its arrival here and its owner's first use of it.
                    received = recvmsg((int)socket.DangerousGetHandle(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                }
                while (received < 0 && errno == EINTR);

                if (received < 0)
                {
                    descriptorsTruncated = false;
                    return -errno;
                }

                for (var header = CMSG_FIRSTHDR(&message); header != null; header = CMSG_NXTHDR(&message, header))
                {
                    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS)
                    {
                        var count = ((int)header->cmsg_len - ControlHeaderBytes) / sizeof(int);
                        new ReadOnlySpan<int>(CMSG_DATA(header), count).CopyTo(descriptors[descriptorCount..]);
                        descriptorCount += count;
                    }
                }

                descriptorsTruncated = (message.msg_flags & MSG_CTRUNC) != 0;
                return (int)received;
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Sends as much of <paramref name="buffer"/> as the socket takes now. Returns the byte count or
    /// the negated errno (-EAGAIN when the socket buffer is full); EINTR is retried.
    /// </summary>
    public static int Send(SafeSocketHandle socket, ReadOnlySpan<byte> buffer)
    {
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            fixed (byte* data = buffer)
            {
                long sent;
                do
                {
                    sent = send((int)socket.DangerousGetHandle(), data, buffer.Length, MSG_DONTWAIT | MSG_NOSIGNAL);
                }
                while (sent < 0 && errno == EINTR);

                return sent < 0 ? -errno : (int)sent;
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Sends as much of <paramref name="buffer"/> as the socket takes now, with
    /// <paramref name="descriptors"/> riding on its first byte. Returns the byte count or the
    /// negated errno (-EAGAIN when the socket buffer is full); EINTR is retried.
    /// </summary>
    /// <remarks>
    /// Takes up to <see cref="MaxSendDescriptors"/>, the kernel's most per message: the protocol's
    /// limit is its callers' to keep, so that a test can send a peer more than the protocol allows.
    /// </remarks>
    public static int Send(SafeSocketHandle socket, ReadOnlySpan<byte> buffer, IReadOnlyList<SafeHandle> descriptors)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(descriptors.Count, MaxSendDescriptors);
        var controlBytes = CMSG_SPACE(descriptors.Count * sizeof(int));
        var control = stackalloc ulong[(controlBytes + sizeof(ulong) - 1) / sizeof(ulong)];
        var header = (cmsghdr*)control;
        header->cmsg_len = ControlHeaderBytes + (descriptors.Count * sizeof(int));
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        var slots = (int*)CMSG_DATA(header);

        var socketAdded = false;
        var descriptorsAdded = 0;
        try
        {
            socket.DangerousAddRef(ref socketAdded);
            for (; descriptorsAdded < descriptors.Count; descriptorsAdded++)
            {
                var added = false;
                descriptors[descriptorsAdded].DangerousAddRef(ref added);
                slots[descriptorsAdded] = (int)descriptors[descriptorsAdded].DangerousGetHandle();
            }

            fixed (byte* data = buffer)
            {
                var vector = new iovec { iov_base = data, iov_len = buffer.Length };
                var message = new msghdr
                {
                    msg_iov = &vector,
                    msg_iovlen = 1,
                    msg_control = control,
                    msg_controllen = controlBytes,
                };
                long sent;
                do
                {
                    // MSG_NOSIGNAL: a peer that has gone is an EPIPE to report, not a SIGPIPE.
                    sent = sendmsg((int)socket.DangerousGetHandle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
                }
                while (sent < 0 && errno == EINTR);

                return sent < 0 ? -errno : (int)sent;
            }
        }
        finally
        {
            for (var i = 0; i < descriptorsAdded; i++)
            {
                descriptors[i].DangerousRelease();
            }

            if (socketAdded)
            {
                socket.DangerousRelease();
            }
        }
    }
}
