using System.Text;
using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Tests.Transport;

internal static unsafe class TestDescriptors
{
    /// <summary>A memfd holding <paramref name="text"/> in UTF-8.</summary>
    public static MemoryFile MemoryFileWith(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var file = MemoryFile.Create("gpumux-test", (ulong)bytes.Length);
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            fixed (byte* data = bytes)
            {
                if (pwrite((int)file.DangerousGetHandle(), data, bytes.Length, 0) != bytes.Length)
                {
                    throw new LinuxException("pwrite", errno);
                }
            }
        }
        finally
        {
            file.DangerousRelease();
        }

        return file;
    }

    public static string ReadText(SafeFileHandle file)
    {
        var buffer = new byte[4096];
        var length = RandomAccess.Read(file, buffer, fileOffset: 0);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>A non-blocking pipe: whether its read end sees end of file tells whether every write end is closed.</summary>
    public static (SafeFileHandle Read, SafeFileHandle Write) Pipe()
    {
        var descriptors = stackalloc int[2];
        if (pipe2(descriptors, O_CLOEXEC | O_NONBLOCK) != 0)
        {
            throw new LinuxException("pipe2", errno);
        }

        return (new SafeFileHandle(descriptors[0], ownsHandle: true), new SafeFileHandle(descriptors[1], ownsHandle: true));
    }

    /// <summary>True when the pipe's read end reports end of file, that is, no write end is open anywhere.</summary>
    public static bool AllWritersClosed(SafeFileHandle readEnd)
    {
        byte unused;
        var added = false;
        readEnd.DangerousAddRef(ref added);
        try
        {
            long result = read((int)readEnd.DangerousGetHandle(), &unused, 1);
            if (result < 0 && errno != EAGAIN)
            {
                throw new LinuxException("read", errno);
            }

            return result == 0;
        }
        finally
        {
            readEnd.DangerousRelease();
        }
    }
}
