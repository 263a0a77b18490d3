using System.Net;
using System.Net.Sockets;
using AnomalyZT.Silo.Receivers;

namespace AnomalyZT.Tests.Receivers;

/// <summary>Datagrams the kernel drops on a full UDP socket are read from /proc/net/udp and reported by receiver.</summary>
public sealed class UdpKernelDropsTests
{
    [Fact]
    public void AFullReceiveBuffer_DropsAreReadAndReported()
    {
        Assert.True(OperatingSystem.IsLinux(), "the collector's kernel-drop count reads /proc/net/udp, Linux only");
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.ReceiveBufferSize = 4096; // the kernel's minimum is about this: a few datagrams fill it
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var drops = UdpKernelDrops.TryCreate(receiver);
        Assert.NotNull(drops);
        Assert.Equal(0, drops.Read());

        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Connect(receiver.LocalEndPoint!);
        var datagram = new byte[1000];
        for (var i = 0; i < 200; i++)
        {
            sender.Send(datagram); // nobody reads: most are dropped on loopback delivery
        }

        var counted = drops.Read();
        Assert.True(counted > 100, $"kernel drops read: {counted}");

        using var stats = new ReceiverStats(null);
        stats.WatchKernelDrops("syslog:udp:test", drops.Read);
        Assert.Equal(counted, stats.KernelDrops()["syslog:udp:test"]);
    }
}
