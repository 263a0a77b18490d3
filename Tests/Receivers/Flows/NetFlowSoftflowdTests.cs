using System.Globalization;
using System.Text.RegularExpressions;
using AnomalyZT.Tests.Response;

namespace AnomalyZT.Tests.Receivers.Flows;

/// <summary>softflowd, the real exporter, replays a tcpdump capture of loopback traffic into the collector as NetFlow v5,
/// v9 and IPFIX; the flows must reach the node grains with the byte counts the capture itself shows.</summary>
public sealed partial class NetFlowSoftflowdTests(LoopbackCapture capture) : IClassFixture<LoopbackCapture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("5", "netflow-v5")]
    [InlineData("9", "netflow-v9")]
    [InlineData("10", "ipfix")]
    public async Task SoftflowdReplay_FlowsReachNodeGrains_WithCapturedBytes(string version, string format)
    {
        // The capture: TCP both ways between .1 and .2, UDP .1 → .3, and the marker datagram .1 → .3.
        Assert.Equal(4, capture.Flows.Count);
        var udp = Assert.Single(capture.Flows, f => f.Protocol == 17 && f.Packets == LoopbackCapture.UdpDatagrams);
        Assert.Equal(LoopbackCapture.UdpDatagrams * (20 + 8 + LoopbackCapture.UdpPayload), udp.Bytes);

        await using var silo = await NetFlowSilo.StartAsync();

        // -d stays in the foreground and -r exits at the end of the file. "-c none": no control socket; with one,
        // softflowd 1.1.0 can block in accept() on it after reading the file, depending on its (uninitialised) poll state.
        var softflowd = PeerProcess.FindProgram("softflowd", "/usr/sbin");
        var (exit, output) = await PeerProcess.RunAsync(softflowd,
        [
            "-r", capture.PcapPath, "-n", $"127.0.0.1:{silo.Endpoint.Port}", "-v", version, "-d",
            "-p", Path.Combine(capture.Directory, $"softflowd-{version}.pid"), "-c", "none",
        ], capture.Directory, null, TimeSpan.FromSeconds(15), Ct);
        Assert.True(exit == 0, $"softflowd exited with {exit}:\n{output}");
        var exported = ExportedRecords().Match(output);
        Assert.True(exported.Success, $"softflowd did not report its exports:\n{output}");
        Assert.Equal(capture.Flows.Count, int.Parse(exported.Groups[1].Value, CultureInfo.InvariantCulture));

        var row = await silo.WaitForCountAsync(NetFlowSilo.Shipper, format, r => r.Accepted >= capture.Flows.Count);
        Assert.Equal(capture.Flows.Count, row.Accepted);
        Assert.Equal(0, row.Rejected + row.Limited + row.Refused);
        var served = await silo.ReceiverRowAsync(NetFlowSilo.Shipper, format);
        Assert.Equal(capture.Flows.Count, served.GetProperty("accepted").GetInt64());

        foreach (var (node, address) in new[] { ("nf-client", "127.0.0.1"), ("nf-server", "127.0.0.2"), ("nf-udp", "127.0.0.3") })
        {
            var (egress, ingress) = capture.BytesOf(address);
            var seen = await silo.NodeBytesAsync(node);
            Assert.True((egress, ingress) == ((long)seen.Egress, (long)seen.Ingress),
                $"{node}: captured egress/ingress {egress}/{ingress} bytes, grain has {seen.Egress}/{seen.Ingress}");
        }

        var totals = silo.Collector.DecoderTotals;
        Assert.Equal(0, totals.DatagramsRejected);
        Assert.Equal(capture.Flows.Count, totals.Flows);
        if (version != "5")
        {
            Assert.True(totals.TemplatesLearned >= 1, "softflowd sends its template with the data");
        }
    }

    [GeneratedRegex(@"Flows exported: \d+ \((\d+) records\)")]
    private static partial Regex ExportedRecords();
}
