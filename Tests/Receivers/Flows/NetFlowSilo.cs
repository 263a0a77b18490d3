using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AnomalyZT.Silo.Receivers;
using AnomalyZT.Silo.Receivers.Flows;
using AnomalyZT.Tests.Silo;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyZT.Tests.Receivers.Flows;

/// <summary>A real silo with the NetFlow collector on an ephemeral loopback port. 127.0.0.1 is the allowed exporter
/// <see cref="Shipper"/>; 127.0.0.1, .2 and .3 are the inventory nodes <c>nf-client</c>, <c>nf-server</c> and
/// <c>nf-udp</c>.</summary>
internal sealed class NetFlowSilo : IAsyncDisposable
{
    public const string Shipper = "lab-exporter";

    private NetFlowSilo(SiloServer server)
    {
        Server = server;
        Collector = server.App.Services.GetRequiredService<NetFlowCollector>();
        Stats = server.App.Services.GetRequiredService<ReceiverStats>();
        Endpoint = Collector.LocalEndPoint ?? throw new InvalidOperationException("the NetFlow collector did not bind");
    }

    public SiloServer Server { get; }

    public NetFlowCollector Collector { get; }

    public ReceiverStats Stats { get; }

    public IPEndPoint Endpoint { get; }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<NetFlowSilo> StartAsync(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["NetFlow:Enabled"] = "true",
            ["NetFlow:Port"] = "0",
            ["NetFlow:FlushInterval"] = "00:00:00.050",
            ["NetFlow:AllowedSources:0:Name"] = Shipper,
            ["NetFlow:AllowedSources:0:Cidr"] = "127.0.0.1/32",
            ["Runtime:Inventory:0:Cidr"] = "127.0.0.1",
            ["Runtime:Inventory:0:Node"] = "nf-client",
            ["Runtime:Inventory:1:Cidr"] = "127.0.0.2",
            ["Runtime:Inventory:1:Node"] = "nf-server",
            ["Runtime:Inventory:2:Cidr"] = "127.0.0.3",
            ["Runtime:Inventory:2:Node"] = "nf-udp",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        return new NetFlowSilo(await SiloServer.StartAsync(settings: settings));
    }

    /// <summary>Sends datagrams to the collector from <paramref name="source"/> (a loopback address).</summary>
    public async Task SendAsync(string source, params byte[][] datagrams)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        foreach (var d in datagrams)
        {
            await socket.SendToAsync(d, SocketFlags.None, Endpoint, Ct);
        }
    }

    /// <summary>The counts of one shipper and format, once <paramref name="done"/> holds (at most 10 s).</summary>
    public async Task<ReceiverCount> WaitForCountAsync(string shipper, string format, Func<ReceiverCount, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var row = Stats.Snapshot().FirstOrDefault(r => r.Receiver == NetFlowCollector.ReceiverName && r.Shipper == shipper && r.Format == format)
                ?? new ReceiverCount(NetFlowCollector.ReceiverName, shipper, format, 0, 0, 0, 0, 0);
            if (done(row))
            {
                return row;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"receiver counts did not reach the expected values within 10 s; last: {row}");
            }

            await Task.Delay(20, Ct);
        }
    }

    /// <summary>GET /v1/receivers as the viewer: the netflow row of <paramref name="shipper"/> and <paramref name="format"/>.</summary>
    public async Task<JsonElement> ReceiverRowAsync(string shipper, string format)
    {
        using var viewer = Server.Client(SiloServer.ViewerKey);
        var json = await viewer.GetStringAsync("v1/receivers", Ct);
        using var doc = JsonDocument.Parse(json);
        foreach (var row in doc.RootElement.EnumerateArray())
        {
            if (row.GetProperty("receiver").GetString() == NetFlowCollector.ReceiverName
                && row.GetProperty("shipper").GetString() == shipper && row.GetProperty("format").GetString() == format)
            {
                return row.Clone();
            }
        }

        throw new InvalidOperationException($"no netflow row for {shipper}/{format} in /v1/receivers: {json}");
    }

    /// <summary>A node's egress and ingress bytes (last closed bucket plus the open one), after the runtime flushed.</summary>
    public async Task<(double Egress, double Ingress)> NodeBytesAsync(string node)
    {
        await Server.Runtime.FlushAsync(Ct);
        using var viewer = Server.Client(SiloServer.ViewerKey);
        using var response = await viewer.GetAsync($"v1/entities/node/{node}", Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"GET node {node}: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        double egress = 0, ingress = 0;
        foreach (var f in doc.RootElement.GetProperty("entity").GetProperty("features").EnumerateArray())
        {
            var name = f.GetProperty("name").GetString();
            var total = Number(f.GetProperty("openValue")) + (f.GetProperty("closedBuckets").GetInt64() > 0 ? Number(f.GetProperty("lastValue")) : 0);
            if (name == "egress_bytes")
            {
                egress = total;
            }
            else if (name == "ingress_bytes")
            {
                ingress = total;
            }
        }

        return (egress, ingress);
    }

    public async Task<JsonElement[]> DeadLettersAsync(string source, int atLeast)
    {
        using var viewer = Server.Client(SiloServer.ViewerKey);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            await Server.Runtime.FlushAsync(Ct);
            using var doc = JsonDocument.Parse(await viewer.GetStringAsync("v1/dead-letters", Ct));
            var letters = doc.RootElement.EnumerateArray().Where(e => e.GetProperty("source").GetString() == source).Select(e => e.Clone()).ToArray();
            if (letters.Length >= atLeast || DateTime.UtcNow > deadline)
            {
                return letters;
            }

            await Task.Delay(50, Ct);
        }
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private static double Number(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : 0;
}
