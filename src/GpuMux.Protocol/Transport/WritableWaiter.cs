using System.Collections.Concurrent;
using System.Net.Sockets;
using GpuMux.Linux;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// Waits for a socket to take more data. A frame's descriptors must go out with sendmsg, and .NET's
/// socket engine offers no wait for writability (a zero-byte send completes at once), so the rare
/// sendmsg that finds the socket buffer full waits here: one epoll instance and one thread for the
/// whole process, whatever the number of connections.
/// </summary>
internal sealed class WritableWaiter
{
    private const int EventsPerWait = 64;

    private readonly int _epoll;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _waiting = new();
    private ulong _lastId;

    private WritableWaiter()
    {
        _epoll = epoll_create1(EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw new LinuxException("epoll_create1", errno);
        }

        new Thread(Run) { IsBackground = true, Name = "gpumux writable" }.Start();
    }

    public static WritableWaiter Shared { get; } = new();

    public async ValueTask WaitAsync(SafeSocketHandle socket, CancellationToken cancellationToken)
    {
        // The reference keeps the descriptor number ours for the whole wait, so the epoll entry
        // removed below cannot be one that a reuse of the number has put there since.
        var added = false;
        socket.DangerousAddRef(ref added);
        var descriptor = (int)socket.DangerousGetHandle();
        var id = Interlocked.Increment(ref _lastId);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = ready;
        try
        {
            Watch(descriptor, id);
            await ready.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _waiting.TryRemove(id, out _);
            Unwatch(descriptor);
            socket.DangerousRelease();
        }
    }

    private unsafe void Watch(int descriptor, ulong id)
    {
        // EPOLLERR and EPOLLHUP are always reported, so a reset or a shutdown also ends the wait.
        var interest = new epoll_event { events = EPOLLOUT | EPOLLONESHOT };
        interest.data.u64 = id;
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, descriptor, &interest) != 0)
        {
            throw new LinuxException("epoll_ctl", errno);
        }
    }

    private unsafe void Unwatch(int descriptor) => epoll_ctl(_epoll, EPOLL_CTL_DEL, descriptor, null);

    private unsafe void Run()
    {
        var events = stackalloc epoll_event[EventsPerWait];
        while (true)
        {
            var count = epoll_wait(_epoll, events, EventsPerWait, -1);
            if (count < 0 && errno != EINTR)
            {
                throw new LinuxException("epoll_wait", errno);
            }

            for (var i = 0; i < count; i++)
            {
                if (_waiting.TryRemove(events[i].data.u64, out var ready))
                {
                    ready.TrySetResult();
                }
            }
        }
    }
}
