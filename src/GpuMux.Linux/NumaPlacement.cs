using System.Globalization;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Linux;

/// <summary>
/// Puts host memory on the NUMA node of a PCI device, so that DMA between them does not cross the
/// socket interconnect. Placement is by first touch: the pages are faulted in by a thread that runs
/// only on the node's CPUs, and the kernel's default policy allocates them there.
/// </summary>
public static unsafe class NumaPlacement
{
    private const string NodeRoot = "/sys/devices/system/node";

    /// <summary>The NUMA node of a PCI device (<c>domain:bus:device.function</c>), or null where the machine does not say.</summary>
    public static int? NodeOfPciDevice(string pciBusId)
    {
        var path = $"/sys/bus/pci/devices/{pciBusId.ToLowerInvariant()}/numa_node";
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out var node) && node >= 0
            ? node
            : null;
    }

    public static int NodeCount() =>
        Directory.Exists(NodeRoot) ? Directory.GetDirectories(NodeRoot, "node*").Count(d => int.TryParse(Path.GetFileName(d)[4..], out _)) : 1;

    /// <summary>
    /// Faults in every page of <paramref name="length"/> bytes at <paramref name="address"/> from
    /// the CPUs of <paramref name="node"/>. The memory must not have been touched yet.
    /// </summary>
    public static void TouchOnNode(nint address, nuint length, int node)
    {
        var cpus = ParseCpuList(File.ReadAllText($"{NodeRoot}/node{node}/cpulist"));
        Exception? failure = null;
        var toucher = new Thread(() =>
        {
            try
            {
                RunOn(cpus);
                var page = (nuint)Environment.SystemPageSize;
                for (nuint offset = 0; offset < length; offset += page)
                {
                    ((byte*)address)[offset] = 0;
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            Name = $"gpumux-numa{node}",
        };
        toucher.Start();
        toucher.Join();
        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>The CPUs of a kernel cpulist such as <c>0-15,32-47</c>.</summary>
    public static IReadOnlyList<int> ParseCpuList(string list)
    {
        var cpus = new List<int>();
        foreach (var part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var bounds = part.Split('-');
            var first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
            var last = bounds.Length == 2 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : first;
            for (var cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }

        return cpus;
    }

    private static void RunOn(IReadOnlyList<int> cpus)
    {
        var set = default(cpu_set_t);
        foreach (var cpu in cpus.Where(cpu => cpu < CPU_SETSIZE))
        {
            CPU_SET(cpu, &set);
        }

        if (sched_setaffinity(0, (size_t)(ulong)sizeof(cpu_set_t), &set) != 0)
        {
            throw LinuxException.FromLastError("sched_setaffinity");
        }
    }
}
