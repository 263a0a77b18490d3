using System.Text;
using AnomalyZT.Ingest.Syslog;

namespace AnomalyZT.Tests.Ingest.Syslog;

public sealed class SyslogMessageParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 14, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private static SyslogRecord Accept(string line, DateTimeOffset? now = null, TimeSpan offset = default) =>
        Accept(Encoding.UTF8.GetBytes(line), now, offset);

    private static SyslogRecord Accept(byte[] line, DateTimeOffset? now = null, TimeSpan offset = default)
    {
        var result = new SyslogMessageParser(new FixedClock(now ?? Now), offset).Parse(line);
        Assert.True(result.Accepted, result.Reason);
        return result.Record!;
    }

    private static long Ms(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private static byte[] WithBom(string head, string msg) => [.. Encoding.ASCII.GetBytes(head), .. Bom, .. Encoding.UTF8.GetBytes(msg)];

    [Fact]
    public void Parse_Rfc5424Example1_BomMessageAndNilProcId()
    {
        var r = Accept(WithBom("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ", "'su root' failed for lonvick on /dev/pts/8"));

        Assert.Equal(SyslogFormat.Rfc5424, r.Format);
        Assert.Equal((4, 2), (r.Facility, r.Severity));
        Assert.Equal(Ms("2003-10-11T22:14:15.003Z"), r.TimestampMs);
        Assert.Equal("mymachine.example.com", r.Host);
        Assert.Equal("su", r.App);
        Assert.Null(r.ProcId);
        Assert.Equal("ID47", r.MsgId);
        Assert.Empty(r.StructuredData);
        Assert.Equal("'su root' failed for lonvick on /dev/pts/8", r.Message);
    }

    [Fact]
    public void Parse_Rfc5424Example2_MicrosecondsAndNegativeOffset()
    {
        var r = Accept("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.");

        Assert.Equal((20, 5), (r.Facility, r.Severity));
        Assert.Equal(Ms("2003-08-24T12:14:15Z"), r.TimestampMs);
        Assert.Equal("192.0.2.1", r.Host);
        Assert.Equal("myproc", r.App);
        Assert.Equal("8710", r.ProcId);
        Assert.Null(r.MsgId);
        Assert.Equal("%% It's time to make the do-nuts.", r.Message);
    }

    [Fact]
    public void Parse_Rfc5424Example3_StructuredDataAndBomMessage()
    {
        var r = Accept(WithBom("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] ", "An application event log entry..."));

        var sd = Assert.Single(r.StructuredData);
        Assert.Equal("exampleSDID@32473", sd.Id);
        Assert.Equal([new("iut", "3"), new("eventSource", "Application"), new("eventID", "1011")], sd.Params);
        Assert.Equal("An application event log entry...", r.Message);
        Assert.Equal("evntslog", r.App);
    }

    [Fact]
    public void Parse_Rfc5424Example4_TwoElementsNoMessage()
    {
        var r = Accept("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]");

        Assert.Equal(["exampleSDID@32473", "examplePriority@32473"], r.StructuredData.Select(e => e.Id));
        Assert.Equal(new SyslogSdParam("class", "high"), Assert.Single(r.StructuredData[1].Params));
        Assert.Equal(string.Empty, r.Message);
    }

    [Theory]
    [InlineData("1985-04-12T23:20:50.52Z", "1985-04-12T23:20:50.52Z")]
    [InlineData("1985-04-12T19:20:50.52-04:00", "1985-04-12T23:20:50.52Z")]
    [InlineData("2003-10-11T22:14:15.003Z", "2003-10-11T22:14:15.003Z")]
    [InlineData("2003-08-24T05:14:15.000003-07:00", "2003-08-24T12:14:15Z")]
    [InlineData("2026-11-22T13:59:22+05:30", "2026-11-22T08:29:22Z")]
    public void Parse_Rfc5424Timestamps_Valid(string timestamp, string utc)
    {
        Assert.Equal(Ms(utc), Accept($"<13>1 {timestamp} h a - - - m").TimestampMs);
    }

    [Theory]
    [InlineData("2003-08-24T05:14:15.000000003-07:00")] // RFC 5424 §6.2.3.1 example 5: more than 6 fraction digits
    [InlineData("2003-10-11t22:14:15.003Z")]
    [InlineData("2003-10-11T22:14:15.003z")]
    [InlineData("2003-10-11T22:14:15")]
    [InlineData("2003-02-29T22:14:15Z")]
    [InlineData("2003-10-11T24:00:00Z")]
    [InlineData("2003-10-11 22:14:15Z")]
    public void Parse_Rfc5424Timestamps_Invalid(string timestamp)
    {
        var result = new SyslogMessageParser(new FixedClock(Now)).Parse(Encoding.ASCII.GetBytes($"<13>1 {timestamp} h a - - - m"));

        Assert.False(result.Accepted);
        Assert.NotNull(result.Reason);
    }

    [Fact]
    public void Parse_Rfc5424NilTimestamp_UsesReferenceClock()
    {
        Assert.Equal(Now.ToUnixTimeMilliseconds(), Accept("<13>1 - - - - - -").TimestampMs);
    }

    [Fact]
    public void Parse_Rfc5424ParamEscapes_Resolved()
    {
        var r = Accept("<13>1 - h a - - [x@1 k=\"q\\\"b\\\\s\\]e\\x\" u=\"caf\u00e9 ]\"] msg");

        Assert.Equal([new("k", "q\"b\\s]e\\x"), new("u", "caf\u00e9 ]")], r.StructuredData[0].Params);
        Assert.Equal("msg", r.Message);
    }

    [Fact]
    public void Parse_LoggerRfc5424_TimeQualityElement()
    {
        // util-linux logger's default network format.
        var r = Accept("<13>1 2026-11-22T13:59:22.123456+00:00 myhost alice - - [timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"518000\"] hello world");

        Assert.Equal(Ms("2026-11-22T13:59:22.123Z"), r.TimestampMs);
        Assert.Equal(("myhost", "alice"), (r.Host, r.App));
        Assert.Equal("timeQuality", r.StructuredData[0].Id);
        Assert.Equal("hello world", r.Message);
    }

    [Fact]
    public void Parse_Rsyslog5424Template_SdNilThenMessage()
    {
        var r = Accept("<38>1 2026-11-22T13:59:22.123456+01:00 web01 sshd 1234 - - Accepted publickey for bob from 10.1.2.3 port 50022 ssh2\n");

        Assert.Equal(("web01", "sshd", "1234"), (r.Host, r.App, r.ProcId));
        Assert.Equal("Accepted publickey for bob from 10.1.2.3 port 50022 ssh2", r.Message);
        Assert.Equal(Ms("2026-11-22T12:59:22.123Z"), r.TimestampMs);
    }

    [Fact]
    public void Parse_Rfc3164Example_HostTagMessage()
    {
        var r = Accept("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");

        Assert.Equal(SyslogFormat.Rfc3164, r.Format);
        Assert.Equal((4, 2), (r.Facility, r.Severity));
        Assert.Equal(Ms("2026-10-11T22:14:15Z"), r.TimestampMs);
        Assert.Equal(("mymachine", "su"), (r.Host, r.App));
        Assert.Null(r.ProcId);
        Assert.Equal("'su root' failed for lonvick on /dev/pts/8", r.Message);
    }

    [Fact]
    public void Parse_Rfc3164SpacePaddedDayAndAddressHost()
    {
        var r = Accept("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!");

        Assert.Equal(Ms("2026-02-05T17:32:18Z"), r.TimestampMs);
        Assert.Equal("10.0.0.99", r.Host);
        Assert.Equal("the BFG!", r.Message);
    }

    [Fact]
    public void Parse_LoggerLocalSocket_NoHostname()
    {
        var r = Accept("<13>Nov 22 13:59:22 alice: hello world");

        Assert.Null(r.Host);
        Assert.Equal("alice", r.App);
        Assert.Equal("hello world", r.Message);
    }

    [Fact]
    public void Parse_LoggerLocalSocketWithPid_NoHostname()
    {
        var r = Accept("<13>Nov 22 13:59:22 alice[4242]: hello");

        Assert.Null(r.Host);
        Assert.Equal(("alice", "4242"), (r.App, r.ProcId));
    }

    [Fact]
    public void Parse_LoggerRfc3164ToNetwork_HostTagPid()
    {
        var r = Accept("<13>Nov 22 13:59:22 myhost alice[4242]: hello");

        Assert.Equal(("myhost", "alice", "4242", "hello"), (r.Host, r.App, r.ProcId, r.Message));
    }

    [Fact]
    public void Parse_RsyslogTraditionalForward_IPv6HostAndSshdTag()
    {
        var r = Accept("<38>Nov  2 03:04:05 2001:db8::5 sshd[1234]: Failed password for root from 2001:db8::7 port 4022 ssh2");

        Assert.Equal(("2001:db8::5", "sshd", "1234"), (r.Host, r.App, r.ProcId));
        Assert.Equal(Ms("2026-11-02T03:04:05Z"), r.TimestampMs);
        Assert.Equal((4, 6), (r.Facility, r.Severity));
    }

    [Fact]
    public void Parse_RsyslogForwardFormat_Rfc3339TimestampInBsdHeader()
    {
        var r = Accept("<38>2026-11-22T13:59:22.123456+01:00 web01 sshd[1234]: msg here");

        Assert.Equal(Ms("2026-11-22T12:59:22.123Z"), r.TimestampMs);
        Assert.Equal(("web01", "sshd", "1234", "msg here"), (r.Host, r.App, r.ProcId, r.Message));
    }

    [Fact]
    public void Parse_BsdTimestampWithYearAndMilliseconds()
    {
        var r = Accept("<38>Nov 22 2024 13:59:22.250 host app: x");

        Assert.Equal(Ms("2024-11-22T13:59:22.25Z"), r.TimestampMs);
    }

    [Fact]
    public void Parse_TagWithoutColon_TagAndRest()
    {
        var r = Accept("<38>Nov 22 13:59:22 host kernel message text");

        Assert.Equal(("host", "kernel", "message text"), (r.Host, r.App, r.Message));
    }

    [Theory]
    [InlineData("2027-01-02T00:00:00Z", "Dec 31 23:59:59", "2026-12-31T23:59:59Z")]
    [InlineData("2026-12-31T23:00:00Z", "Jan  1 00:10:00", "2027-01-01T00:10:00Z")]
    [InlineData("2025-03-10T00:00:00Z", "Feb 29 12:00:00", "2024-02-29T12:00:00Z")]
    [InlineData("2026-11-22T14:00:00Z", "Nov 22 14:05:00", "2026-11-22T14:05:00Z")]
    public void Parse_Rfc3164_YearInferredFromReferenceClock(string now, string stamp, string expected)
    {
        var r = Accept($"<13>{stamp} h t: m", DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(Ms(expected), r.TimestampMs);
    }

    [Fact]
    public void Parse_Rfc3164_ConfiguredOffsetApplies()
    {
        var r = Accept("<13>Nov 22 13:00:00 h t: m", offset: TimeSpan.FromHours(2));

        Assert.Equal(Ms("2026-11-22T11:00:00Z"), r.TimestampMs);
    }

    [Theory]
    [InlineData("", "empty message")]
    [InlineData("hello", "missing PRI")]
    [InlineData("<>1 - - - - - -", "invalid PRI")]
    [InlineData("<1000>x", "invalid PRI")]
    [InlineData("<192>1 - - - - - -", "PRI 192 out of range")]
    [InlineData("<13>2 - - - - - -", "unsupported syslog VERSION")]
    [InlineData("<13>1 - h a p", "RFC 5424: missing or invalid")]
    [InlineData("<13>1 - h a - - [x@1 k=\"v]", "RFC 5424: unterminated PARAM-VALUE")]
    [InlineData("<13>1 - h a - - [x@1 k=\"v\"", "RFC 5424: unterminated SD-ELEMENT")]
    [InlineData("<13>1 - h a - - [x@1 k=v]", "RFC 5424: expected '=\"'")]
    [InlineData("<13>1 - h a - - x", "RFC 5424: STRUCTURED-DATA must be")]
    [InlineData("<13>1 - h a - - -x", "RFC 5424: expected SP")]
    [InlineData("<13>Foo 22 13:59:22 h t: m", "RFC 3164: invalid TIMESTAMP")]
    [InlineData("<13>Nov 32 13:59:22 h t: m", "RFC 3164: invalid TIMESTAMP")]
    [InlineData("<13>just text", "RFC 3164: invalid TIMESTAMP")]
    public void Parse_Malformed_RejectedWithReason(string line, string reason)
    {
        var parser = new SyslogMessageParser(new FixedClock(Now));

        var result = parser.Parse(Encoding.UTF8.GetBytes(line));

        Assert.False(result.Accepted);
        Assert.StartsWith(reason, result.Reason, StringComparison.Ordinal);
        Assert.Equal((0, 1), (parser.Accepted, parser.Rejected));
    }

    [Fact]
    public void Parse_InvalidUtf8InMessage_ReplacedNotRejected()
    {
        var r = Accept([.. "<13>1 - h a - - - "u8, 0xC3, 0x28, (byte)'!']);

        Assert.Equal("\uFFFD(!", r.Message);
    }
}
