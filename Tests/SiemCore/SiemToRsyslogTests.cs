using System.Globalization;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Siem;
using AnomalyZT.Silo.Siem.Encoders;
using AnomalyZT.Silo.Siem.Sinks;
using AnomalyZT.Silo.State;
using AnomalyZT.Tests.Response.Core;
using AnomalyZT.Tests.Siem;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyZT.Tests.SiemCore;

/// <summary>The whole SIEM path into a real rsyslog: records committed to the store, a sink worker encoding them as CEF
/// (over TCP) and LEEF (over TLS), rsyslog writing them to files, and an independent parser reading every field back —
/// with values full of <c>=</c>, <c>\</c>, <c>|</c>, newlines, tabs and non-ASCII.</summary>
public sealed class SiemToRsyslogTests(RsyslogFixture rsyslog) : TempStore, IClassFixture<RsyslogFixture>
{
    [Theory]
    [InlineData("syslog-tcp", "cef")]
    [InlineData("syslog-tls", "leef")]
    [InlineData("syslog-tcp", "leef")]
    [InlineData("syslog-tls", "cef")]
    public async Task EveryFieldOfEveryRecord_RoundTripsThroughRsyslog(string type, string format)
    {
        var run = "r" + Guid.NewGuid().ToString("N")[..8];
        var findings = Enumerable.Range(0, 20).Select(i => ResponseHarness.IdentityFinding($"{run}|user{i}=x\\y@corp", "failures", i, Severity.High,
            examples: ["s3://bucket/a=b|c", "日本"]) with { Explanation = $"{run} {i} " + EncoderTests.Nasty }).ToArray();
        await Store.CommitAsync(new Checkpoint([], findings, []), Ct);
        var stored = await Store.RecordsAfterAsync(0, 1000, Ct);

        var options = new SiemSinkOptions
        {
            Type = type,
            Format = format,
            Host = rsyslog.Host,
            Port = type == "syslog-tls" ? rsyslog.TlsPort : rsyslog.TcpPort,
            CaFile = type == "syslog-tls" ? rsyslog.CaFile : string.Empty,
            Hostname = "siem-test-host",
        };
        Assert.Empty(options.Validate("s"));
        await using var sink = SyslogSinks.Create("s", options);
        var worker = new SinkWorker(Store, sink, SiemFormats.Create(format), options, TimeProvider.System, new SiemMetrics(null), NullLogger.Instance);
        Assert.Equal(stored.Count, await worker.RunOnceAsync(Ct));

        var file = type == "syslog-tls" ? rsyslog.TlsLog : rsyslog.TcpLog;
        var lines = await rsyslog.WaitForLinesAsync(file, run, findings.Length, TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(findings.Length, lines.Count);
        foreach (var line in lines)
        {
            var text = Encoding.UTF8.GetString(line.Payload);
            Assert.Equal("finding", line.MsgId);
            Assert.Equal(SiemFormats.SyslogSeverity(Severity.High), line.Severity);
            var fields = format == "cef" ? SiemParsers.ParseCef(text).Extension : SiemParsers.ParseLeef(text).Attributes;
            var id = fields["externalId"];
            var record = stored.Single(s => s.Record.Id == id).Record;
            Assert.Equal(record.Message, fields["msg"]);
            Assert.Equal(record.EntityId, fields[format == "cef" ? "suser" : "usrName"]);
            Assert.Equal(record.TimeMs.ToString(CultureInfo.InvariantCulture), fields[format == "cef" ? "rt" : "devTime"]);
            Assert.Equal("s3://bucket/a=b|c,日本", fields[format == "cef" ? "cs5" : "examples"]);
            Assert.Equal(record.Finding!.Feature, fields[format == "cef" ? "cs2" : "feature"]);
        }
    }
}
