using AnomalyZT.Ingest;

namespace AnomalyZT.Tests.Ingest;

public sealed class ZeekConnParserTests
{
    private const string Header =
        "#separator \\x09\n" +
        "#set_separator\t,\n" +
        "#empty_field\t(empty)\n" +
        "#unset_field\t-\n" +
        "#path\tconn\n" +
        "#open\t2020-06-05-14-39-59\n" +
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n" +
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

    private const string DnsRow = "1591367999.305988\tCMdzit1AMNsmfAIiQc\t192.168.4.76\t36844\t192.168.4.1\t53\tudp\tdns\t0.066852\t62\t141\tSF\t-\t-\t0\tDd\t2\t118\t2\t197\t-\n";
    private const string HttpRow = "1591367999.430166\tC5bLoe2Mvxqhawzqqd\t192.168.4.76\t46378\t31.3.245.133\t80\ttcp\thttp\t0.254777\t136\t2311\tSF\t-\t-\t0\tShADadFf\t6\t456\t5\t2571\t(empty)\n";
    private const string UnsetRow = "1591368000.000000\tCabc\tfe80::1\t0\tff02::2\t134\ticmp\t-\t-\t-\t-\tOTH\t-\t-\t0\t-\t1\t56\t0\t0\t-\n";

    [Fact]
    public async Task DecodeAsync_TsvLog_HeadersAreControlAndRowsAreFlows()
    {
        var body = Header + DnsRow + HttpRow + UnsetRow + "#close\t2020-06-05-14-40-00\n";

        var result = await IngestHarness.DecodeAsync(body, "zeek-conn");

        Assert.Empty(result.Rejected);
        Assert.Equal(new DecodeSummary(12, 3, 0, 0, 9, body.Length), result.Summary);
        var dns = result.Events[0].Flow;
        Assert.Equal(1591367999306L, dns.TimestampMs);
        Assert.Equal(("192.168.4.76", 36844, "192.168.4.1", 53), (dns.SrcIp, dns.SrcPort, dns.DstIp, dns.DstPort));
        Assert.Equal(17, dns.Protocol);
        Assert.Equal((62L, 141L, 4L, 67L), (dns.OrigBytes, dns.RespBytes, dns.Packets, dns.DurationMs));
        Assert.Null(dns.Exporter);
        Assert.Equal(6, result.Events[1].Flow.Protocol);
        Assert.Equal(2311, result.Events[1].Flow.RespBytes);
        var icmp = result.Events[2].Flow;
        Assert.Equal((1, 0L, 0L, 0L, 1L), (icmp.Protocol, icmp.OrigBytes, icmp.RespBytes, icmp.DurationMs, icmp.Packets));
    }

    [Fact]
    public async Task DecodeAsync_JsonLine_IsFlow()
    {
        const string line = """{"ts":1591367999.305988,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","service":"dns","duration":0.06685185432434082,"orig_bytes":62,"resp_bytes":141,"conn_state":"SF","missed_bytes":0,"history":"Dd","orig_pkts":2,"orig_ip_bytes":118,"resp_pkts":2,"resp_ip_bytes":197}""";

        var flow = (await IngestHarness.DecodeAsync(line, "zeek-conn")).SingleFlow();

        Assert.Equal(1591367999306L, flow.TimestampMs);
        Assert.Equal(("192.168.4.76", 36844, "192.168.4.1", 53, (byte)17), (flow.SrcIp, flow.SrcPort, flow.DstIp, flow.DstPort, flow.Protocol));
        Assert.Equal((62L, 141L, 4L, 67L), (flow.OrigBytes, flow.RespBytes, flow.Packets, flow.DurationMs));
    }

    [Fact]
    public async Task DecodeAsync_JsonIsoTimestampAndNestedId_IsFlow()
    {
        const string line = """  {"ts":"2020-06-05T14:39:59.305988Z","id":{"orig_h":"10.1.1.1","orig_p":5000,"resp_h":"10.1.1.2","resp_p":443},"proto":"tcp"}""";

        var flow = (await IngestHarness.DecodeAsync(line, "zeek-conn")).SingleFlow();

        Assert.Equal(1591367999305L, flow.TimestampMs);
        Assert.Equal(("10.1.1.1", 443, (byte)6), (flow.SrcIp, flow.DstPort, flow.Protocol));
    }

    [Fact]
    public async Task DecodeAsync_RowBeforeFields_IsRejectedThenLaterRowsAccepted()
    {
        var body = DnsRow + Header + DnsRow;

        var result = await IngestHarness.DecodeAsync(body, "zeek-conn");

        var error = Assert.Single(result.Rejected);
        Assert.Equal(1, error.LineNumber);
        Assert.Equal("line 1: Zeek TSV data line before any '#fields' header (send the log with its header lines)", error.Reason);
        Assert.Single(result.Events);
    }

    [Fact]
    public async Task DecodeAsync_CustomSeparatorAndUnsetMarker_Honoured()
    {
        const string body = "#separator \\x2c\n#unset_field,NA\n#fields,ts,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,orig_bytes\n1591367999.5,10.0.0.1,1234,10.0.0.2,22,tcp,NA\n";

        var flow = (await IngestHarness.DecodeAsync(body, "zeek-conn")).SingleFlow();

        Assert.Equal(("10.0.0.1", 22, 0L), (flow.SrcIp, flow.DstPort, flow.OrigBytes));
    }

    [Theory]
    [InlineData("1591367999.3\tC1\t10.0.0.1\t1\t10.0.0.2\n", "line 9: the row has 5 columns; '#fields' declares 21")]
    [InlineData("yesterday\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tSF\t-\t-\t0\t-\t1\t1\t1\t1\t-\n", "line 9: field 'ts' is not an RFC 3339 timestamp or epoch number")]
    [InlineData("1591367999.3\tC1\t10.0.0.1\t99999\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tSF\t-\t-\t0\t-\t1\t1\t1\t1\t-\n", "line 9: field 'id.orig_p' is not a port (0-65535)")]
    [InlineData("1591367999.3\tC1\t10.0.0.1\t1\t10.0.0.2\t2\tsctp\t-\t-\t-\t-\tSF\t-\t-\t0\t-\t1\t1\t1\t1\t-\n", "line 9: field 'proto' must be tcp, udp, icmp or a protocol number 0-255")]
    [InlineData("1591367999.3\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-\t-1\t-\t-\tSF\t-\t-\t0\t-\t1\t1\t1\t1\t-\n", "line 9: field 'duration' is not a non-negative number")]
    [InlineData("1591367999.3\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-\t-\tmany\t-\tSF\t-\t-\t0\t-\t1\t1\t1\t1\t-\n", "line 9: field 'orig_bytes' is not a non-negative integer")]
    [InlineData("1591367999.3\tC1\t-\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tSF\t-\t-\t0\t-\t1\t1\t1\t1\t-\n", "line 9: missing required field 'id.orig_h'")]
    public async Task DecodeAsync_BadTsvRow_RejectsWithSpecificReason(string row, string expected)
    {
        Assert.Equal(expected, (await IngestHarness.DecodeAsync(Header + row, "zeek-conn")).SingleReason());
    }

    [Theory]
    [InlineData("""{"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2"}""", "line 1: missing required field 'ts'")]
    [InlineData("""{"ts":1591367999.3,"id.orig_h":"10.0.0.1"}""", "line 1: missing required field 'id.resp_h'")]
    [InlineData("""{"ts":1591367999.3,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","id.resp_p":70000}""", "line 1: field 'id.resp_p' is 70000; a port must be 0-65535")]
    [InlineData("""{"ts":1591367999.3,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","proto":"gre"}""", "line 1: field 'proto' must be tcp, udp, icmp or a protocol number 0-255")]
    public async Task DecodeAsync_BadJsonLine_RejectsWithSpecificReason(string line, string expected)
    {
        Assert.Equal(expected, (await IngestHarness.DecodeAsync(line, "zeek-conn")).SingleReason());
    }

    [Fact]
    public async Task DecodeAsync_BadSeparatorHeader_IsRejected()
    {
        var reason = (await IngestHarness.DecodeAsync("#separator tab\n", "zeek-conn")).SingleReason();

        Assert.Equal("line 1: '#separator' must be one byte, written as \\xHH (e.g. \\x09)", reason);
    }
}
