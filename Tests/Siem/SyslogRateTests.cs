using System.Diagnostics;
using System.Globalization;
using AnomalyZT.Silo.Siem.Sinks;
using static AnomalyZT.Tests.Siem.SyslogTestRecords;

namespace AnomalyZT.Tests.Siem;

/// <summary>Not a timed assertion: measures sustained records/s to rsyslogd over TCP and TLS (300-byte CEF payloads,
/// batches of 1000 as the delivery loop sends them at its largest batch size, two alternating rounds of 100,000 per
/// transport) and writes them to the test output and to <c>$TMPDIR/anomalyzt-syslog-rate.txt</c>. "Confirmed" is when
/// the last send returned (the receiver's TCP acknowledged everything); "written" is when rsyslog had written the last
/// line to its file, the sustained end-to-end rate. Its own rsyslogd.</summary>
public sealed class SyslogRateTests(RsyslogFixture rsyslog) : IClassFixture<RsyslogFixture>
{
    private const int Count = 100_000;
    private const int BatchSize = 1000;

    [Fact]
    public async Task Measure_RecordsPerSecondOverTcpAndTls_IsReported()
    {
        var report = new List<string>();
        var written = new Dictionary<SyslogTransport, List<double>>();
        foreach (var transport in new[] { SyslogTransport.Tcp, SyslogTransport.Tls, SyslogTransport.Tcp, SyslogTransport.Tls })
        {
            var (line, rate) = await MeasureAsync(transport);
            report.Add(line);
            (written.TryGetValue(transport, out var rates) ? rates : written[transport] = []).Add(rate);
        }

        foreach (var (transport, rates) in written)
        {
            report.Add(string.Create(CultureInfo.InvariantCulture,
                $"syslog {transport.ToString().ToLowerInvariant()}: sustained {rates.Average():0} records/s written by rsyslog (mean of {rates.Count} rounds)"));
        }

        report.Add($"({rsyslog.Version}, {Environment.ProcessorCount} cores, {Count} records per round, batches of {BatchSize}, other test classes may run at the same time)");
        var text = string.Join(Environment.NewLine, report) + Environment.NewLine;
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "anomalyzt-syslog-rate.txt"), text, Ct);
    }

    private async Task<(string Line, double WrittenRate)> MeasureAsync(SyslogTransport transport)
    {
        var run = NewRun();
        var records = Many(run, Count);
        var log = rsyslog.Log(transport);
        await using var sink = SyslogRsyslogTests.Sink(rsyslog.SinkOptions(transport));
        Assert.Equal(new SinkResult(1, null), await sink.SendAsync([Record(0, run + "-warmup", "warmup " + run)], Ct));
        await rsyslog.WaitForLinesAsync(log, run, 1, TimeSpan.FromSeconds(30), Ct);
        var before = rsyslog.LineCount(log);

        var clock = Stopwatch.StartNew();
        for (var position = 0; position < records.Count; position += BatchSize)
        {
            Assert.Equal(new SinkResult(BatchSize, null), await sink.SendAsync(records.GetRange(position, BatchSize), Ct));
        }

        var confirmed = clock.Elapsed;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (rsyslog.LineCount(log) - before < Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        var done = clock.Elapsed;
        Assert.Equal(Count, rsyslog.LineCount(log) - before);
        var mib = records.Sum(r => (long)r.Payload.Length) / 1024.0 / 1024.0;
        var protocol = sink is SyslogTlsSink tls ? $" ({tls.Protocol})" : string.Empty;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"syslog {transport.ToString().ToLowerInvariant()}{protocol}: {Count} records ({mib:0.0} MiB payload) confirmed by the sink after {confirmed.TotalSeconds:0.00} s = {Count / confirmed.TotalSeconds:0} records/s; written by rsyslog after {done.TotalSeconds:0.00} s = {Count / done.TotalSeconds:0} records/s");
        return (line, Count / done.TotalSeconds);
    }
}
