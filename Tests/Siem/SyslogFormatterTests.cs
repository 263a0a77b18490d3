using System.Text;
using AnomalyZT.Silo.Siem;
using AnomalyZT.Silo.Siem.Sinks;
using static AnomalyZT.Tests.Siem.SyslogTestRecords;

namespace AnomalyZT.Tests.Siem;

/// <summary>RFC 5424 layout, header-field rules, UDP truncation and the options' validation, without a receiver.</summary>
public sealed class SyslogFormatterTests
{
    private static readonly DateTimeOffset When = new DateTimeOffset(2026, 11, 20, 10, 15, 0, TimeSpan.FromHours(1)).AddTicks(1_234_567);

    [Fact]
    public void Format_Record_IsRfc5424WithPriTimestampAndBom()
    {
        var formatter = new SyslogFormatter(13, "host-1", byteOrderMark: true, includeProcessId: false);

        var message = formatter.Format(Record(1, "id", "CEF:0|a=b", severity: 2, msgId: "finding", time: When));

        var expected = "<106>1 2026-11-20T09:15:00.123456Z host-1 anomalyzt - finding - \uFEFFCEF:0|a=b";
        Assert.Equal(Encoding.UTF8.GetBytes(expected), message);
    }

    [Theory]
    [InlineData(0, 0, "<0>")]
    [InlineData(10, 6, "<86>")]
    [InlineData(23, 7, "<191>")]
    [InlineData(4, 9, "<39>")]
    [InlineData(4, -1, "<32>")]
    public void Format_FacilityAndSeverity_GivePri(int facility, int severity, string pri)
    {
        var formatter = new SyslogFormatter(facility, "h", includeProcessId: false);

        var text = Encoding.UTF8.GetString(formatter.Format(Record(1, "id", "x", severity: severity)));

        Assert.StartsWith(pri + "1 ", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_HeaderFields_ArePrintableAsciiAndCutToTheirLimits()
    {
        var formatter = new SyslogFormatter(13, "héllo wörld\t" + new string('h', 300), byteOrderMark: false);

        var text = Encoding.UTF8.GetString(formatter.Format(Record(1, "id", "p", msgId: "a b|ü" + new string('m', 40))));
        var fields = text.Split(' ');

        Assert.Equal(255, fields[2].Length);
        Assert.StartsWith("h_llo_w_rld_hhh", fields[2], StringComparison.Ordinal);
        Assert.Equal("anomalyzt", fields[3]);
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[4]);
        Assert.Equal(32, fields[5].Length);
        Assert.StartsWith("a_b|_mmm", fields[5], StringComparison.Ordinal);
        Assert.Equal("-", fields[6]);
        Assert.Equal("p", fields[7]);
        Assert.All(text, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public void Format_EmptyMsgIdAndPayload_AreNilAndOmitted()
    {
        var formatter = new SyslogFormatter(13, "h", includeProcessId: false);

        var text = Encoding.UTF8.GetString(formatter.Format(Record(1, "id", string.Empty, msgId: string.Empty, time: When)));

        Assert.Equal("<107>1 2026-11-20T09:15:00.123456Z h anomalyzt - - -", text);
    }

    [Fact]
    public void Format_NoHostname_UsesTheMachineName()
    {
        Assert.Equal(SyslogFormatter.Sanitize(Environment.MachineName, 255), new SyslogFormatter(13).Hostname);
    }

    [Theory]
    [InlineData(480)]
    [InlineData(600)]
    [InlineData(1001)]
    [InlineData(2048)]
    public void Datagram_OverTheLimit_IsCutAtACharacterBoundaryAndMarked(int limit)
    {
        var formatter = new SyslogFormatter(13, "h");
        for (var shift = 0; shift < 4; shift++)
        {
            var payload = new string('x', shift) + string.Concat(Enumerable.Repeat("日本é😀", 300));
            var record = Record(1, "id", payload);

            var datagram = SyslogUdpSink.Datagram(formatter, record, limit);

            Assert.InRange(datagram.Length, limit - 4, limit);
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(datagram);
            var marker = $" [truncated from {Encoding.UTF8.GetByteCount(payload)} bytes]";
            Assert.EndsWith(marker, text, StringComparison.Ordinal);
            var body = text[..^marker.Length];
            var kept = body[(body.IndexOf('\uFEFF', StringComparison.Ordinal) + 1)..];
            Assert.StartsWith(kept, payload, StringComparison.Ordinal);
            Assert.NotEmpty(kept);
        }
    }

    [Fact]
    public void Datagram_WithinTheLimit_IsTheWholeMessage()
    {
        var formatter = new SyslogFormatter(13, "h");
        var record = Record(1, "id", new string('x', 1000));

        Assert.Equal(formatter.Format(record), SyslogUdpSink.Datagram(formatter, record, formatter.Format(record).Length));
    }

    [Fact]
    public void Validate_GoodSettings_HaveNoErrors()
    {
        Assert.Empty(new SyslogSinkOptions { Host = "siem.example.org", Port = 514 }.Validate("s"));
        Assert.Empty(new SyslogSinkOptions { Transport = SyslogTransport.Udp, Host = "10.0.0.5", Port = 514, MaxMessageBytes = 65507 }.Validate("s"));
        Assert.Empty(new SyslogSinkOptions { Transport = SyslogTransport.Tls, Host = "::1", Port = 6514, ServerName = "siem.example.org" }.Validate("s"));
    }

    [Fact]
    public void Validate_BadSettings_NameTheKeyTheValueAndWhatIsAllowed()
    {
        var errors = new SyslogSinkOptions
        {
            Transport = SyslogTransport.Udp,
            Host = "not a host",
            Port = 70000,
            Facility = 24,
            Hostname = "has space",
            MaxMessageBytes = 65508,
            CaFile = "/etc/ca.pem",
            Timeout = TimeSpan.Zero,
        }.Validate("siem1");

        Assert.Equal(7, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Siem:Sinks:siem1:Host is 'not a host'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Siem:Sinks:siem1:Port is 70000; allowed: 1 to 65535", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Siem:Sinks:siem1:Facility is 24; allowed: 0 to 23", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Siem:Sinks:siem1:Hostname is 'has space'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Siem:Sinks:siem1:MaxMessageBytes is 65508; allowed: 480 to 65507", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Siem:Sinks:siem1:CaFile is '/etc/ca.pem', but a udp syslog sink does not use TLS", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Siem:Sinks:siem1:Timeout is '00:00:00'", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_TlsFiles_AreReadAndMustPair()
    {
        var missing = Path.Combine(Path.GetTempPath(), "anomalyzt-missing-" + Guid.NewGuid().ToString("N") + ".pem");
        var errors = new SyslogSinkOptions { Transport = SyslogTransport.Tls, Host = "h", Port = 6514, CaFile = missing, ClientCertFile = missing }.Validate("t");

        Assert.Equal(2, errors.Count);
        Assert.StartsWith($"Siem:Sinks:t:CaFile is '{missing}': cannot be read", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("Siem:Sinks:t:ClientCertFile and Siem:Sinks:t:ClientKeyFile are", errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public void SiemSinkOptions_MapToSyslogSinks()
    {
        var tls = SyslogSinks.Create("s", new SiemSinkOptions { Type = SiemSinkTypes.SyslogTls, Host = "127.0.0.1", Port = 6514, Facility = 10 });
        var udp = SyslogSinks.Create("u", new SiemSinkOptions { Type = SiemSinkTypes.SyslogUdp, Host = "127.0.0.1", Port = 514, MaxMessageBytes = 1200 });

        Assert.Equal(10, Assert.IsType<SyslogTlsSink>(tls).Formatter.Facility);
        Assert.IsType<SyslogUdpSink>(udp);
        Assert.IsType<SyslogTcpSink>(SyslogSinks.Create("t", new SiemSinkOptions { Type = SiemSinkTypes.SyslogTcp, Host = "127.0.0.1", Port = 514 }));
        var error = Assert.Throws<InvalidOperationException>(() => SyslogSinks.Create("bad", new SiemSinkOptions { Type = SiemSinkTypes.SyslogUdp, Host = "h", Port = 514, MaxMessageBytes = 10 }));
        Assert.Contains("Siem:Sinks:bad:MaxMessageBytes is 10", error.Message, StringComparison.Ordinal);
    }
}
