using System.Diagnostics;
using System.Globalization;
using AnomalyZT.Silo.Siem.Sinks;
using static AnomalyZT.Tests.Siem.SyslogTestRecords;

namespace AnomalyZT.Tests.Siem;

/// <summary>rsyslogd stops in the middle of a stream and comes back: the sink says how far it got, the rest is sent
/// again the way the delivery loop does, and rsyslog ends up with every record (at least once). Its own rsyslogd, so
/// stopping it disturbs no other test.</summary>
public sealed class SyslogOutageTests(RsyslogFixture rsyslog) : IClassFixture<RsyslogFixture>
{
    private const int Produced = 20_000;
    private const int BatchSize = 500;
    private const int StopAfter = 5_000;

    [Theory]
    [InlineData("tcp")]
    [InlineData("tls")]
    public async Task Outage_RsyslogStopsMidStreamAndReturns_EveryRecordArrivesAtLeastOnce(string listener)
    {
        var (transport, _) = SyslogRsyslogTests.Parse(listener);
        var run = NewRun();
        var records = Many(run, Produced);
        var options = rsyslog.SinkOptions(transport);
        options.Timeout = TimeSpan.FromSeconds(5);
        await using var sink = SyslogRsyslogTests.Sink(options);
        var failures = new List<SinkResult>();
        var clock = Stopwatch.StartNew();
        Task? stop = null;
        var restarted = false;
        var position = 0;
        var failedAt = new List<int>();

        // The delivery loop's way: send from the first unconfirmed record; on an error, resend from there.
        while (position < records.Count)
        {
            if (stop is null && position >= StopAfter)
            {
                // Stop while the stream goes on: the next sends run into rsyslogd going down.
                stop = Task.Run(() => rsyslog.StopAsync(Ct), Ct);
            }
            else if (stop is not null && !restarted)
            {
                // Keep the stream going, a little slower, until rsyslogd is down.
                await Task.Delay(10, Ct);
            }

            var batch = records.GetRange(position, Math.Min(BatchSize, records.Count - position));
            var result = await sink.SendAsync(batch, Ct);
            Assert.InRange(result.Delivered, 0, batch.Count);
            position += result.Delivered;
            if (result.Error is null)
            {
                Assert.Equal(batch.Count, result.Delivered);
                continue;
            }

            failures.Add(result);
            failedAt.Add(position);
            Assert.True(failures.Count < 100, $"still failing after {failures.Count} sends: {result.Error}");
            if (stop is not null && !restarted)
            {
                await stop;
                await rsyslog.StartAgainAsync(Ct);
                restarted = true;
            }
            else
            {
                await Task.Delay(200, Ct);
            }
        }

        Assert.True(restarted, "rsyslogd was never stopped");
        Assert.Contains(failures, f => f.Delivered < BatchSize);
        var expected = records.ToDictionary(r => r.Id, r => r.Payload.ToArray(), StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        IReadOnlyList<SyslogLine> lines;
        List<SyslogLine> intact;
        int distinct;
        while (true)
        {
            lines = rsyslog.Tagged(rsyslog.Log(transport), run);
            intact = [.. lines.Where(l => IdOf(l) is { } id && expected.TryGetValue(id, out var payload) && payload.AsSpan().SequenceEqual(l.Payload))];
            distinct = intact.Select(IdOf).Distinct(StringComparer.Ordinal).Count();
            if (distinct == Produced || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(200, Ct);
        }

        var report = string.Create(CultureInfo.InvariantCulture,
            $"syslog {listener} outage: produced {Produced}, rsyslog wrote {lines.Count} lines ({intact.Count} intact, {lines.Count - intact.Count} damaged), " +
            $"{distinct} distinct ids, {intact.Count - distinct} duplicates; {failures.Count} failed sends, first: delivered {failures[0].Delivered} of {BatchSize}: " +
            $"{failures[0].Error}; the sink resent {((SyslogStreamSink)sink).ResentRecords} records on reconnecting; {clock.Elapsed.TotalSeconds:0.0} s");
        var seen = intact.Select(IdOf).ToHashSet(StringComparer.Ordinal);
        var missing = records.Select((r, i) => (r.Id, i)).Where(p => !seen.Contains(p.Id)).Select(p => p.i).ToList();
        if (missing.Count > 0)
        {
            report += string.Create(CultureInfo.InvariantCulture,
                $"; MISSING {missing.Count}: records {missing[0]}..{missing[^1]} (sends failed at positions {string.Join(", ", failedAt)})");
        }

        TestContext.Current.TestOutputHelper?.WriteLine(report);
        TestContext.Current.TestOutputHelper?.WriteLine("rsyslogd before the stop:\n" + rsyslog.StoppedOutput);
        await File.AppendAllTextAsync(Path.Combine(Path.GetTempPath(), "anomalyzt-syslog-outage.txt"), report + Environment.NewLine, Ct);

        Assert.Equal(Produced, distinct);
        Assert.Equal(lines.Count, intact.Count);
        // In order apart from the resent stretch: every id first appears after the one before it.
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < intact.Count; i++)
        {
            first.TryAdd(IdOf(intact[i])!, i);
        }

        Assert.True(records.Select(r => first[r.Id]).Zip(records.Skip(1).Select(r => first[r.Id])).All(p => p.First < p.Second), "first arrivals are out of order");
    }
}
