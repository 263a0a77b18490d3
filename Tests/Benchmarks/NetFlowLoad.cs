using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using AnomalyZT.Silo.Hosting;
using AnomalyZT.Silo.Receivers;
using AnomalyZT.Silo.Receivers.Flows;
using AnomalyZT.Silo.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Benchmarks;

/// <summary>Flows/s through the NetFlow collector of an in-process silo over loopback UDP:
/// <c>dotnet run -c Release --project Tests/Benchmarks -- netflow-load [v5|v9|ipfix] [seconds] [datagrams-per-second]</c>
/// (0 = as fast as one sender can). 30 records per datagram; the v9/IPFIX template is sent first and every 1,000
/// datagrams. The inventory maps the 65,000 source addresses to 256 nodes; the per-shipper rate limit is off.</summary>
internal static class NetFlowLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        var version = args.Length > 1 ? args[1].ToLowerInvariant() : "v5";
        var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var rate = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 0;
        if (version is not ("v5" or "v9" or "ipfix"))
        {
            Console.Error.WriteLine("usage: netflow-load [v5|v9|ipfix] [seconds] [datagrams-per-second]");
            return 2;
        }

        return await LoadSilo.RunAsync("netflow-load", Settings, (app, _) => MeasureAsync(app, version, seconds, rate));
    }

    private static async Task<int> MeasureAsync(WebApplication app, string version, double seconds, double rate)
    {
        var collector = app.Services.GetRequiredService<NetFlowCollector>();
        var stats = app.Services.GetRequiredService<ReceiverStats>();
        var target = collector.LocalEndPoint!;
        var (template, data) = NetFlowDatagrams.Build(version, 4096);

        var clock = Stopwatch.StartNew();
        var sent = await Task.Run(() => Send(target, template, data, TimeSpan.FromSeconds(seconds), rate));
        var sendTime = clock.Elapsed;

        // Wait until the collector has counted everything it will (or nothing moved for a second).
        var lastChange = await LoadSilo.SettleAsync(() => Accepted(stats), sent.Flows, clock);

        var total = stats.Total(NetFlowCollector.ReceiverName);
        var decoded = collector.DecoderTotals;
        var lost = sent.Datagrams - decoded.DatagramsAccepted - decoded.DatagramsRejected;
        var busy = lastChange.TotalSeconds;
        Console.WriteLine(FormattableString.Invariant($"netflow-load {version}: {sent.Datagrams:N0} datagrams ({sent.Flows:N0} flows) sent in {sendTime.TotalSeconds:0.0} s ({sent.Datagrams / sendTime.TotalSeconds:N0} datagrams/s)"));
        Console.WriteLine(FormattableString.Invariant($"  collector: {decoded.DatagramsAccepted:N0} datagrams decoded, {decoded.DatagramsRejected:N0} rejected, {lost:N0} lost ({100.0 * lost / Math.Max(1, sent.Datagrams):0.00} %), kernel drops {collector.KernelDrops?.ToString("N0", CultureInfo.InvariantCulture) ?? "n/a"}"));
        Console.WriteLine(FormattableString.Invariant($"  flows: {total.Accepted:N0} accepted, {total.Refused:N0} refused, {total.Rejected:N0} rejected, {total.Limited:N0} limited in {busy:0.0} s = {total.Accepted / busy:N0} flows/s accepted"));
        return 0;
    }

    private static long Accepted(ReceiverStats stats) => stats.Total(NetFlowCollector.ReceiverName).Accepted;

    private static (long Datagrams, long Flows) Send(IPEndPoint target, byte[]? template, byte[][] data, TimeSpan duration, double rate)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(target);
        var clock = Stopwatch.StartNew();
        long datagrams = 0, templates = 0;
        while (clock.Elapsed < duration)
        {
            if (template is not null && datagrams % 1000 == 0)
            {
                socket.Send(template);
                templates++;
            }

            socket.Send(data[datagrams % data.Length]);
            datagrams++;
            if (rate > 0)
            {
                // Pace without sleeping per datagram: spin until the schedule allows the next one.
                while (datagrams / rate > clock.Elapsed.TotalSeconds)
                {
                    Thread.SpinWait(50);
                }
            }
        }

        return (datagrams + templates, datagrams * NetFlowDatagrams.RecordsPerDatagram);
    }

    private static Dictionary<string, string?> Settings(string _)
    {
        var settings = new Dictionary<string, string?>
        {
            ["NetFlow:Enabled"] = "true",
            ["NetFlow:Port"] = "0",
            ["NetFlow:AllowedSources:0:Name"] = "load-exporter",
            ["NetFlow:AllowedSources:0:Cidr"] = "127.0.0.1",
        };
        for (var i = 0; i < 256; i++)
        {
            settings[FormattableString.Invariant($"Runtime:Inventory:{i}:Cidr")] = FormattableString.Invariant($"10.77.{i}.0/24");
            settings[FormattableString.Invariant($"Runtime:Inventory:{i}:Node")] = FormattableString.Invariant($"load-node-{i}");
        }

        return settings;
    }
}
