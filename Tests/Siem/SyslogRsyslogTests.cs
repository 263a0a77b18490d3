using System.Globalization;
using System.Text;
using AnomalyZT.Silo.Siem.Sinks;
using AnomalyZT.Tests.Response;
using static AnomalyZT.Tests.Siem.SyslogTestRecords;

namespace AnomalyZT.Tests.Siem;

/// <summary>The syslog sinks against a real rsyslogd (<see cref="RsyslogFixture"/>): what rsyslog wrote is parsed back
/// and compared byte for byte.</summary>
public sealed class SyslogRsyslogTests(RsyslogFixture rsyslog) : IClassFixture<RsyslogFixture>
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Listeners => ["tcp", "tls", "mtls", "udp"];

    [Theory]
    [MemberData(nameof(Listeners))]
    public async Task Send_PayloadsWithEscapesAndNonAscii_ArriveByteExactWithHeaderFields(string listener)
    {
        var (transport, mutual) = Parse(listener);
        var run = NewRun();
        var records = Tricky(run).Select((t, i) => Record(i + 1, $"{run}-{i}", t.Payload, t.Severity, t.MsgId)).ToList();
        await using var sink = Sink(rsyslog.SinkOptions(transport, mutual));

        var result = await sink.SendAsync(records, Ct);

        Assert.Equal(new SinkResult(records.Count, null), result);
        var lines = await rsyslog.WaitForLinesAsync(rsyslog.Log(transport, mutual), run, records.Count, Arrival, Ct);
        Assert.Equal(records.Count, lines.Count);
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var (record, line) in records.Zip(lines))
        {
            Assert.Equal(record.SyslogSeverity, line.Severity);
            Assert.Equal(13, line.Facility);
            Assert.Equal("siem-test-host", line.Hostname);
            Assert.Equal("anomalyzt", line.AppName);
            Assert.Equal(pid, line.ProcId);
            Assert.Equal(record.MessageId, line.MsgId);
            Assert.Equal(Timestamp(record.Time), line.Timestamp);
            Assert.Equal("-", line.StructuredData);
            // rsyslog keeps RFC 5424's byte order mark as the first bytes of %msg%.
            Assert.True(line.HasBom, $"no byte order mark before: {line.Message}");
            Assert.Equal(Encoding.UTF8.GetString(record.Payload.Span), Encoding.UTF8.GetString(line.Payload));
            Assert.Equal(record.Payload.ToArray(), line.Payload);
        }
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("udp")]
    public async Task Send_WithoutByteOrderMark_MessageIsThePayload(string listener)
    {
        var (transport, _) = Parse(listener);
        var run = NewRun();
        var options = rsyslog.SinkOptions(transport);
        options.ByteOrderMark = false;
        options.IncludeProcessId = false;
        var record = Record(1, run, "CEF:0|AnomalyZT|AnomalyZT|1.0|risk|Risk changed|5|externalId=" + run + " msg=é");
        await using var sink = Sink(options);

        Assert.Equal(new SinkResult(1, null), await sink.SendAsync([record], Ct));

        var line = Assert.Single(await rsyslog.WaitForLinesAsync(rsyslog.Log(transport), run, 1, Arrival, Ct));
        Assert.Equal(record.Payload.ToArray(), line.RawMessage);
        Assert.Equal("-", line.ProcId);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("tls")]
    public async Task Send_TenThousandRecordsInOneBatch_ArriveCompleteAndInOrder(string listener)
    {
        var (transport, _) = Parse(listener);
        var run = NewRun();
        var records = Many(run, 10_000);
        await using var sink = (SyslogStreamSink)Sink(rsyslog.SinkOptions(transport));

        var result = await sink.SendAsync(records, Ct);

        Assert.Equal(new SinkResult(records.Count, null), result);
        Assert.Equal(OperatingSystem.IsLinux(), sink.ConfirmsByAcknowledgement);
        var lines = await rsyslog.WaitForLinesAsync(rsyslog.Log(transport), run, records.Count, Arrival, Ct);
        Assert.Equal(records.Select(r => r.Id), lines.Select(IdOf));
        Assert.All(records.Zip(lines), p => Assert.Equal(p.First.Payload.ToArray(), p.Second.Payload));
    }

    [Fact]
    public async Task Send_SeveralBatches_ReusesOneConnection()
    {
        var run = NewRun();
        var records = Many(run, 300);
        await using var sink = new SyslogTcpSink("rsyslog-tcp", rsyslog.SinkOptions(SyslogTransport.Tcp));

        foreach (var batch in records.Chunk(100))
        {
            Assert.Equal(new SinkResult(100, null), await sink.SendAsync(batch, Ct));
        }

        Assert.Equal(1, sink.Connections);
        await rsyslog.WaitForLinesAsync(rsyslog.TcpLog, run, records.Count, Arrival, Ct);
    }

    [Fact]
    public async Task Send_RecordLargerThanAWrite_ArrivesWhole()
    {
        var run = NewRun();
        var big = "CEF:0|AnomalyZT|AnomalyZT|1.0|finding|Big|5|externalId=" + run + " msg=" + string.Concat(Enumerable.Repeat("é日本=|\\\\ ", 9000));
        var records = new List<EncodedRecord> { Record(1, run + "-a", "small externalId=" + run + "-a"), Record(2, run, big), Record(3, run + "-c", "small externalId=" + run + "-c") };
        foreach (var transport in new[] { SyslogTransport.Tcp, SyslogTransport.Tls })
        {
            await using var sink = Sink(rsyslog.SinkOptions(transport));

            Assert.Equal(new SinkResult(3, null), await sink.SendAsync(records, Ct));

            var lines = await rsyslog.WaitForLinesAsync(rsyslog.Log(transport), run, 3, Arrival, Ct);
            Assert.Equal(records.Select(r => r.Payload.ToArray()), lines.Select(l => l.Payload));
        }
    }

    [Fact]
    public async Task Tls_WithAnotherCa_FailsAndDeliversNothing()
    {
        var run = NewRun();
        var options = rsyslog.SinkOptions(SyslogTransport.Tls);
        options.CaFile = rsyslog.OtherCaFile;
        await using var sink = Sink(options);

        var result = await sink.SendAsync([Record(1, run, "externalId=" + run)], Ct);

        TestContext.Current.TestOutputHelper?.WriteLine($"sink: {result}");
        Assert.Equal(0, result.Delivered);
        Assert.Contains("does not chain to a CA of CaFile", result.Error, StringComparison.Ordinal);
        await AssertNothingArrivesAsync(rsyslog.TlsLog, run);
    }

    [Fact]
    public async Task Tls_WithoutCaFile_TrustsOnlyTheSystemStoreAndFails()
    {
        var run = NewRun();
        var options = rsyslog.SinkOptions(SyslogTransport.Tls);
        options.CaFile = string.Empty;
        await using var sink = Sink(options);

        var result = await sink.SendAsync([Record(1, run, "externalId=" + run)], Ct);

        TestContext.Current.TestOutputHelper?.WriteLine($"sink: {result}");
        Assert.Equal(0, result.Delivered);
        Assert.Contains("does not chain to the system's trusted CAs", result.Error, StringComparison.Ordinal);
        await AssertNothingArrivesAsync(rsyslog.TlsLog, run);
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("siem.example.org", false)]
    public async Task Tls_ServerName_IsCheckedAgainstTheCertificate(string serverName, bool accepted)
    {
        var run = NewRun();
        var options = rsyslog.SinkOptions(SyslogTransport.Tls);
        options.ServerName = serverName;
        await using var sink = Sink(options);

        var result = await sink.SendAsync([Record(1, run, "externalId=" + run)], Ct);

        if (accepted)
        {
            Assert.Equal(new SinkResult(1, null), result);
            await rsyslog.WaitForLinesAsync(rsyslog.TlsLog, run, 1, Arrival, Ct);
        }
        else
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"sink: {result}");
        Assert.Equal(0, result.Delivered);
            Assert.Contains($"is not for '{serverName}'", result.Error, StringComparison.Ordinal);
            await AssertNothingArrivesAsync(rsyslog.TlsLog, run);
        }
    }

    [Fact]
    public async Task MutualTls_WithoutClientCertificate_FailsAndDeliversNothing()
    {
        var run = NewRun();
        var options = rsyslog.SinkOptions(SyslogTransport.Tls);
        options.Port = rsyslog.MutualTlsPort;
        await using var sink = Sink(options);

        var result = await sink.SendAsync(Many(run, 20), Ct);

        TestContext.Current.TestOutputHelper?.WriteLine($"sink: {result}");
        Assert.Equal(0, result.Delivered);
        Assert.NotNull(result.Error);
        await AssertNothingArrivesAsync(rsyslog.MutualTlsLog, run);
    }

    [Fact]
    public async Task Udp_MessageOverTheLimit_IsCutAtACharacterBoundaryAndMarked()
    {
        var run = NewRun();
        var options = rsyslog.SinkOptions(SyslogTransport.Udp);
        options.MaxMessageBytes = 600;
        var payload = "CEF:0|AnomalyZT|AnomalyZT|1.0|finding|Long|5|externalId=" + run + " msg=" + string.Concat(Enumerable.Repeat("日本é", 400));
        var record = Record(1, run, payload);
        await using var sink = new SyslogUdpSink("rsyslog-udp", options);

        Assert.Equal(new SinkResult(1, null), await sink.SendAsync([record], Ct));

        Assert.Equal(1, sink.Truncated);
        var line = Assert.Single(await rsyslog.WaitForLinesAsync(rsyslog.UdpLog, run, 1, Arrival, Ct));
        var marker = FormattableString.Invariant($" [truncated from {record.Payload.Length} bytes]");
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(line.Payload);
        Assert.EndsWith(marker, text, StringComparison.Ordinal);
        Assert.StartsWith(text[..^marker.Length], payload, StringComparison.Ordinal);
        Assert.True(text.Length > 100);
        Assert.True(sink.Formatter.Format(record).Length > 600);
        Assert.True(SyslogUdpSink.Datagram(sink.Formatter, record, 600).Length <= 600);
    }

    [Fact]
    public async Task Tcp_NothingListening_ReturnsErrorWithNothingDelivered()
    {
        var options = rsyslog.SinkOptions(SyslogTransport.Tcp);
        options.Port = PeerProcess.FreePort();
        await using var sink = Sink(options);

        var result = await sink.SendAsync(Many(NewRun(), 5), Ct);

        TestContext.Current.TestOutputHelper?.WriteLine($"sink: {result}");
        Assert.Equal(0, result.Delivered);
        Assert.Contains("ConnectionRefused", result.Error, StringComparison.Ordinal);
    }

    internal static (SyslogTransport Transport, bool Mutual) Parse(string listener) => listener switch
    {
        "tcp" => (SyslogTransport.Tcp, false),
        "tls" => (SyslogTransport.Tls, false),
        "mtls" => (SyslogTransport.Tls, true),
        "udp" => (SyslogTransport.Udp, false),
        _ => throw new ArgumentOutOfRangeException(nameof(listener), listener, null),
    };

    internal static IRecordSink Sink(SyslogSinkOptions options) => options.Transport switch
    {
        SyslogTransport.Tls => new SyslogTlsSink("rsyslog-tls", options),
        SyslogTransport.Udp => new SyslogUdpSink("rsyslog-udp", options),
        _ => new SyslogTcpSink("rsyslog-tcp", options),
    };

    /// <summary>A record that was refused must not show up: wait a while, then look.</summary>
    private async Task AssertNothingArrivesAsync(string file, string run)
    {
        TestContext.Current.TestOutputHelper?.WriteLine($"rsyslogd so far:\n{rsyslog.Process.Output}");
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        Assert.Empty(rsyslog.Tagged(file, run));
    }
}
