using System.Globalization;
using System.Net.Sockets;

namespace AnomalyZT.Silo.Receivers;

/// <summary>Reads how many datagrams the Linux kernel dropped on one UDP socket because its receive buffer was full:
/// the <c>drops</c> column of the socket's row in <c>/proc/net/udp</c> (or <c>udp6</c>), found by the socket's inode.
/// Read on demand (metrics, a once-a-minute check), never per datagram.</summary>
internal sealed class UdpKernelDrops
{
    private const int InodeColumn = 9;
    private const int DropsColumn = 12;

    private readonly string _table;
    private readonly string _inode;

    private UdpKernelDrops(string table, string inode)
    {
        _table = table;
        _inode = inode;
    }

    /// <summary>The reader for <paramref name="socket"/>, or null when this is not Linux or /proc cannot be read.</summary>
    public static UdpKernelDrops? TryCreate(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            // /proc/self/fd/N links to "socket:[inode]".
            var fd = socket.SafeHandle.DangerousGetHandle().ToInt64().ToString(CultureInfo.InvariantCulture);
            var target = new FileInfo("/proc/self/fd/" + fd).LinkTarget;
            if (target is null || !target.StartsWith("socket:[", StringComparison.Ordinal) || !target.EndsWith(']'))
            {
                return null;
            }

            var table = socket.AddressFamily == AddressFamily.InterNetworkV6 ? "/proc/net/udp6" : "/proc/net/udp";
            var reader = new UdpKernelDrops(table, target["socket:[".Length..^1]);
            return reader.Read() is null ? null : reader;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private long _reported;

    /// <summary>True when drops grew since the last call that returned true: <paramref name="added"/> is the growth,
    /// <paramref name="total"/> the count since the socket was opened. One caller (a receiver's loop) per socket.</summary>
    public bool TryTakeNew(out long added, out long total)
    {
        total = Read() ?? _reported;
        added = total - _reported;
        if (added <= 0)
        {
            return false;
        }

        _reported = total;
        return true;
    }

    /// <summary>Datagrams dropped since the socket was opened, or null when its row is gone (socket closed).</summary>
    public long? Read()
    {
        try
        {
            foreach (var line in File.ReadLines(_table))
            {
                var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length > DropsColumn && columns[InodeColumn] == _inode
                    && long.TryParse(columns[DropsColumn], NumberStyles.None, CultureInfo.InvariantCulture, out var drops))
                {
                    return drops;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
