using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Siem;
using AnomalyZT.Silo.Siem.Encoders;
using AnomalyZT.Silo.Siem.Sinks;
using AnomalyZT.Silo.State;
using AnomalyZT.Tests.Response.Contracts;
using AnomalyZT.Tests.Response.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyZT.Tests.SiemCore;

public sealed class SinkWorkerTests : TempStore
{
    [Fact]
    public async Task ASinkThatFailsMidStream_GetsEveryRecordOnce_ItComesBack_AndTheCursorSurvivesARestart()
    {
        await CommitAsync(250);
        var sink = new FlakySink { FailAfter = 120 };
        var worker = Worker(sink, new SiemSinkOptions { Type = SiemSinkTypes.File, BatchSize = 50 });

        Assert.Equal(120, await worker.RunOnceAsync(Ct));
        Assert.False(worker.Health.Healthy);
        Assert.Equal(130, worker.Health.Lag);
        Assert.True(worker.Backoff > TimeSpan.Zero);

        sink.FailAfter = int.MaxValue;
        await CommitAsync(10, offset: 250);
        var restarted = Worker(sink, new SiemSinkOptions { Type = SiemSinkTypes.File, BatchSize = 50 }); // a new process: the cursor comes from the store
        Assert.Equal(140, await restarted.RunOnceAsync(Ct));
        Assert.True(restarted.Health.Healthy);
        Assert.Equal(0, restarted.Health.Lag);
        Assert.Equal(260, sink.Ids.Count);
        Assert.Equal(260, sink.Ids.Distinct().Count());
    }

    [Fact]
    public async Task Filters_SkipRecordsBelowTheMinimumSeverityOrOfOtherKinds_AndTheCursorStillMoves()
    {
        await Store.CommitAsync(new Checkpoint([], [
            ResponseHarness.IdentityFinding("a", "f1", 0, Severity.Low),
            ResponseHarness.IdentityFinding("a", "f2", 0, Severity.High),
            ResponseHarness.IdentityFinding("a", "f3", 0, Severity.Critical),
        ], []), Ct);
        var sink = new FlakySink();
        var worker = Worker(sink, new SiemSinkOptions { Type = SiemSinkTypes.File, MinSeverity = "high", Kinds = ["finding"] });
        Assert.Equal(2, await worker.RunOnceAsync(Ct));
        Assert.Equal(1, worker.Health.Filtered);
        Assert.Equal(0, worker.Health.Lag);
        Assert.Equal(0, await worker.RunOnceAsync(Ct));
    }

    [Fact]
    public async Task FileSink_WritesLines_AndRotatesAtItsSize()
    {
        await CommitAsync(40);
        var path = Path.Combine(DirectoryPath, "out", "records.jsonl");
        var options = new SiemSinkOptions { Type = SiemSinkTypes.File, Path = path, MaxFileBytes = 4096, MaxFiles = 3, BatchSize = 10 };
        await using var sink = new FileSink("file", path, options.MaxFileBytes, options.MaxFiles);
        var worker = Worker(sink, options, new JsonRecordEncoder());
        Assert.Equal(40, await worker.RunOnceAsync(Ct));
        Assert.True(File.Exists(path + ".1"));
        var lines = new[] { path, path + ".1", path + ".2", path + ".3" }.Where(File.Exists).SelectMany(File.ReadAllLines).ToList();
        Assert.All(lines, l => Assert.StartsWith("{", l, StringComparison.Ordinal));
        Assert.False(File.Exists(path + ".4"));
        Assert.InRange(lines.Count, 1, 40);
    }

    [Fact]
    public async Task WebhookSink_SignsEachBatch()
    {
        await using var receiver = new ProviderStub();
        await receiver.InitializeAsync();
        receiver.Reset(_ => StubResponse.Empty(200));
        await CommitAsync(5);
        using var http = new HttpClient();
        await using var sink = new WebhookSink("hook", new Uri(receiver.Url + "/siem"), "k3y", http, TimeSpan.FromSeconds(5), TimeProvider.System);
        var worker = Worker(sink, new SiemSinkOptions { Type = SiemSinkTypes.Webhook }, new JsonRecordEncoder());
        Assert.Equal(5, await worker.RunOnceAsync(Ct));
        var request = Assert.Single(receiver.Requests);
        Assert.Equal(5, request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(AnomalyZT.Silo.Response.Connectors.WebhookConnector.Verify(
            "k3y", request.Header("X-AnomalyZT-Timestamp")!, request.Header("X-AnomalyZT-Signature")!, request.BodyBytes, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task HecSink_WithAck_CountsABatchOnlyOnceIndexed()
    {
        await using var hec = new ProviderStub();
        await hec.InitializeAsync();
        var acks = 0;
        hec.Reset(r => r.Path.EndsWith("/ack", StringComparison.Ordinal)
            ? StubResponse.Json(200, ++acks < 2 ? """{"acks":{"7":false}}""" : """{"acks":{"7":true}}""")
            : StubResponse.Json(200, """{"text":"Success","code":0,"ackId":7}"""));
        await CommitAsync(3);
        using var http = new HttpClient();
        await using var sink = new HecSink("splunk", new Uri(hec.Url + "/"), "hec-token", useAck: true, http, TimeSpan.FromSeconds(10));
        var worker = Worker(sink, new SiemSinkOptions { Type = SiemSinkTypes.Hec }, new HecEncoder("silo"));
        Assert.Equal(3, await worker.RunOnceAsync(Ct));
        var post = hec.Requests.First(r => r.Path.EndsWith("/event", StringComparison.Ordinal));
        Assert.Equal("Splunk hec-token", post.Header("Authorization"));
        Assert.NotNull(post.Header("X-Splunk-Request-Channel"));
        Assert.Equal(2, hec.Requests.Count(r => r.Path.EndsWith("/ack", StringComparison.Ordinal)));

        hec.Reset(_ => StubResponse.Json(503, """{"text":"Server is busy","code":9}"""));
        await CommitAsync(1, offset: 3);
        Assert.Equal(0, await worker.RunOnceAsync(Ct));
        Assert.Contains("503", worker.Health.LastError, StringComparison.Ordinal);
    }

    private SinkWorker Worker(IRecordSink sink, SiemSinkOptions options, ISiemEncoder? encoder = null) =>
        new(Store, sink, encoder ?? new CefEncoder(), options, TimeProvider.System, new SiemMetrics(null), NullLogger.Instance);

    private Task CommitAsync(int count, int offset = 0) =>
        Store.CommitAsync(new Checkpoint([], [.. Enumerable.Range(offset, count).Select(i => ResponseHarness.IdentityFinding("u" + i, "failures", i, Severity.Medium))], []), Ct);

    /// <summary>Confirms records until <see cref="FailAfter"/> in total, then fails (like a receiver that went away).</summary>
    private sealed class FlakySink : IRecordSink
    {
        public int FailAfter { get; set; } = int.MaxValue;

        public List<string> Ids { get; } = [];

        public string Name => "flaky";

        public Task<SinkResult> SendAsync(IReadOnlyList<EncodedRecord> batch, CancellationToken ct)
        {
            var room = Math.Max(0, FailAfter - Ids.Count);
            var take = Math.Min(room, batch.Count);
            Ids.AddRange(batch.Take(take).Select(r => r.Id));
            Assert.All(batch, r => Assert.StartsWith("CEF:0|", Encoding.UTF8.GetString(r.Payload.Span), StringComparison.Ordinal));
            return Task.FromResult(take == batch.Count ? new SinkResult(take, null) : new SinkResult(take, "receiver went away"));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
