using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AnomalyZT.Tests.Response;

namespace AnomalyZT.Tests.Receivers.Flows;

/// <summary>One directional flow as counted from the capture itself: IPv4 total lengths summed, as exporters count.</summary>
internal sealed record CapturedFlow(byte Protocol, string Src, int SrcPort, string Dst, int DstPort, long Packets, long Bytes);

/// <summary>A pcap of real loopback traffic, captured by tcpdump once per test class while this fixture makes it:
/// a TCP connection 127.0.0.1 → 127.0.0.2 (3000 bytes up, 1000 down), five 200-byte UDP datagrams 127.0.0.1 →
/// 127.0.0.3, and a marker datagram that says the capture is complete. The flows are counted from the pcap by
/// <see cref="Flows"/>, independently of softflowd and nfdump.</summary>
public sealed class LoopbackCapture : IAsyncLifetime
{
    public const int UdpDatagrams = 5;
    public const int UdpPayload = 200;
    private static readonly byte[] Marker = "end-of-capture"u8.ToArray();

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "anomalyzt-netflow-" + Guid.NewGuid().ToString("N"));

    public string PcapPath => Path.Combine(_directory, "traffic.pcap");

    public string Directory => _directory;

    internal IReadOnlyList<CapturedFlow> Flows { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(_directory);
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        listener.Start();
        using var udpSink = Bound("127.0.0.3", SocketType.Dgram, ProtocolType.Udp);
        using var markerSink = Bound("127.0.0.3", SocketType.Dgram, ProtocolType.Udp);
        var tcpPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var udpPort = ((IPEndPoint)udpSink.LocalEndPoint!).Port;
        var markerPort = ((IPEndPoint)markerSink.LocalEndPoint!).Port;

        // -U writes every packet at once, so the file is complete when the marker shows up in it; -Z root keeps
        // root's right to write into this (root-owned) folder instead of switching to the tcpdump user.
        var args = new List<string> { "-i", "lo", "-n", "-U", "-w", PcapPath };
        if (Environment.IsPrivilegedProcess)
        {
            args.AddRange(["-Z", "root"]);
        }

        args.Add($"tcp port {tcpPort} or udp port {udpPort} or udp port {markerPort}");
        await using var tcpdump = PeerProcess.Start(PeerProcess.FindProgram("tcpdump", "/usr/sbin", "/usr/bin"), args, _directory);
        await tcpdump.WaitForLineAsync(new Regex("listening on lo"), TimeSpan.FromSeconds(10), ct);

        await MakeTcpTrafficAsync(listener, ct);
        using (var sender = Bound("127.0.0.1", SocketType.Dgram, ProtocolType.Udp))
        {
            var payload = new byte[UdpPayload];
            for (var i = 0; i < UdpDatagrams; i++)
            {
                await sender.SendToAsync(payload, SocketFlags.None, udpSink.LocalEndPoint!, ct);
            }

            var received = new byte[UdpPayload];
            for (var i = 0; i < UdpDatagrams; i++)
            {
                await udpSink.ReceiveAsync(received, ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), ct);
            }

            await sender.SendToAsync(Marker, SocketFlags.None, markerSink.LocalEndPoint!, ct);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!ReadPcap(PcapPath).Any(f => f.DstPort == markerPort))
        {
            if (DateTime.UtcNow > deadline || tcpdump.HasExited)
            {
                throw new InvalidOperationException($"tcpdump did not capture the marker datagram within 10 s; output:\n{tcpdump.Output}");
            }

            await Task.Delay(20, ct);
        }

        Flows = ReadPcap(PcapPath);
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Bytes sent from <paramref name="address"/> (egress) and to it (ingress), over every captured flow.</summary>
    internal (long Egress, long Ingress) BytesOf(string address) =>
        (Flows.Where(f => f.Src == address).Sum(f => f.Bytes), Flows.Where(f => f.Dst == address).Sum(f => f.Bytes));

    private static Socket Bound(string address, SocketType type, ProtocolType protocol)
    {
        var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
        socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        return socket;
    }

    private static async Task MakeTcpTrafficAsync(TcpListener listener, CancellationToken ct)
    {
        using var client = Bound("127.0.0.1", SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptSocketAsync(ct).AsTask();
        await client.ConnectAsync(listener.LocalEndpoint, ct);
        using var server = await accepting.WaitAsync(TimeSpan.FromSeconds(5), ct);
        await client.SendAsync(new byte[3000], SocketFlags.None, ct);
        await ReadExactlyAsync(server, 3000, ct);
        await server.SendAsync(new byte[1000], SocketFlags.None, ct);
        await ReadExactlyAsync(client, 1000, ct);
        client.Shutdown(SocketShutdown.Both);
        server.Shutdown(SocketShutdown.Both);
    }

    private static async Task ReadExactlyAsync(Socket socket, int count, CancellationToken ct)
    {
        var buffer = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), ct);
            if (n == 0)
            {
                throw new InvalidOperationException("connection closed early");
            }

            read += n;
        }
    }

    /// <summary>Directional IPv4 TCP/UDP flows of a little-endian pcap with Ethernet (loopback) framing; an
    /// incomplete last record (tcpdump still writing) is ignored.</summary>
    private static List<CapturedFlow> ReadPcap(string path)
    {
        byte[] file;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            file = copy.ToArray();
        }
        catch (FileNotFoundException)
        {
            return [];
        }

        var flows = new Dictionary<(byte, string, int, string, int), (long Packets, long Bytes)>();
        if (file.Length < 24)
        {
            return [];
        }

        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20))); // LINKTYPE_ETHERNET
        for (var at = 24; at + 16 <= file.Length;)
        {
            var captured = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
            if (at + 16 + captured > file.Length)
            {
                break;
            }

            var frame = file.AsSpan(at + 16, captured);
            at += 16 + captured;
            if (frame.Length < 34 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != 0x0800)
            {
                continue;
            }

            var ip = frame[14..];
            var headerLength = (ip[0] & 0x0f) * 4;
            var protocol = ip[9];
            if (protocol is not (6 or 17) || ip.Length < headerLength + 4)
            {
                continue;
            }

            var key = (protocol, new IPAddress(ip.Slice(12, 4)).ToString(), (int)BinaryPrimitives.ReadUInt16BigEndian(ip[headerLength..]),
                new IPAddress(ip.Slice(16, 4)).ToString(), (int)BinaryPrimitives.ReadUInt16BigEndian(ip[(headerLength + 2)..]));
            var (packets, bytes) = flows.GetValueOrDefault(key);
            flows[key] = (packets + 1, bytes + BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
        }

        return [.. flows.Select(kv => new CapturedFlow(kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Key.Item4, kv.Key.Item5, kv.Value.Packets, kv.Value.Bytes))];
    }
}
