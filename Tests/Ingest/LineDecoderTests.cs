using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using AnomalyZT.Ingest;

namespace AnomalyZT.Tests.Ingest;

public sealed class LineDecoderTests
{
    private static string Access(int i) =>
        $$"""{"type":"access","ts":1714557600,"principal":"user-{{i}}","source_ip":"10.0.0.{{i % 250}}"}""";

    [Fact]
    public void Formats_ListsAllFive()
    {
        Assert.Equal(["generic", "envoy", "k8s-audit", "zeek-conn", "gpu"], LineDecoder.Formats);
    }

    [Fact]
    public async Task DecodeAsync_UnknownFormat_Throws400()
    {
        var ex = await Assert.ThrowsAsync<IngestLimitException>(() => IngestHarness.DecodeAsync("{}\n", "syslog"));

        Assert.Equal(400, ex.StatusCode);
        Assert.Equal("unknown format 'syslog'; known formats: generic, envoy, k8s-audit, zeek-conn, gpu", ex.Message);
    }

    [Fact]
    public async Task DecodeAsync_FormatNameCase_IsIgnored()
    {
        Assert.Single((await IngestHarness.DecodeAsync(Access(1), "GENERIC")).Events);
    }

    [Fact]
    public async Task DecodeAsync_BlankLinesAndCrlf_CountedAndStripped()
    {
        var body = "\uFEFF" + Access(1) + "\r\n\r\n   \t\r\n" + Access(2) + "\r\n";

        var result = await IngestHarness.DecodeAsync(body, "generic");

        Assert.Equal(["user-1", "user-2"], result.Events.Select(e => e.Access.Principal));
        Assert.Equal(new DecodeSummary(4, 2, 0, 0, 2, Encoding.UTF8.GetByteCount(body)), result.Summary);
    }

    [Fact]
    public async Task DecodeAsync_LastLineWithoutNewline_IsDecoded()
    {
        var result = await IngestHarness.DecodeAsync(Access(1) + "\n" + Access(2), "generic");

        Assert.Equal(2, result.Events.Count);
        Assert.Equal(2, result.Summary.Lines);
    }

    [Fact]
    public async Task DecodeAsync_EmptyBody_NoBatchAndZeroSummary()
    {
        var result = await IngestHarness.DecodeAsync([], "envoy");

        Assert.Empty(result.Batches);
        Assert.Equal(default, result.Summary);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task DecodeAsync_LinesSplitAcrossSegments_SameAsWhole(int chunkSize)
    {
        var body = Encoding.UTF8.GetBytes(IngestHarness.Lines(Access(1), "not json", Access(2), "", Access(3)).Replace("\n", "\r\n", StringComparison.Ordinal));

        var result = await IngestHarness.DecodeAsync(body, "generic", chunkSize: chunkSize);

        Assert.Equal(["user-1", "user-2", "user-3"], result.Events.Select(e => e.Access.Principal));
        Assert.Equal(2, Assert.Single(result.Rejected).LineNumber);
        Assert.Equal(new DecodeSummary(5, 3, 0, 1, 1, body.Length), result.Summary);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    public async Task DecodeAsync_LineOverLimit_RejectedAndNextLinesAccepted(int chunkSize)
    {
        var longLine = "{\"type\":\"access\",\"ts\":1714557600,\"principal\":\"x\",\"pad\":\"" + new string('p', 70000 - 58) + "\"}";
        Assert.Equal(70000, longLine.Length);
        var body = Encoding.UTF8.GetBytes(IngestHarness.Lines(Access(1), longLine, Access(3)).Replace("\n", "\r\n", StringComparison.Ordinal));

        var result = await IngestHarness.DecodeAsync(body, "generic", chunkSize: chunkSize);

        var error = Assert.Single(result.Rejected);
        Assert.Equal("line 2 is 70000 bytes; the limit is 65536", error.Reason);
        Assert.Equal(LineError.MaxPayloadBytes, error.Payload.Length);
        Assert.Equal(Encoding.UTF8.GetBytes(longLine)[..LineError.MaxPayloadBytes], error.Payload);
        Assert.Equal(["user-1", "user-3"], result.Events.Select(e => e.Access.Principal));
        Assert.Equal(new DecodeSummary(3, 2, 0, 1, 0, body.Length), result.Summary);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(333)]
    public async Task DecodeAsync_LastLineOverLimitWithoutNewline_Rejected(int chunkSize)
    {
        var body = Encoding.UTF8.GetBytes(Access(1) + "\n" + new string('z', 300));

        var result = await IngestHarness.DecodeAsync(body, "generic", new IngestOptions { MaxLineBytes = 256, MaxFieldBytes = 64 }, chunkSize: chunkSize);

        Assert.Equal("line 2 is 300 bytes; the limit is 256", Assert.Single(result.Rejected).Reason);
        Assert.Single(result.Events);
    }

    [Fact]
    public async Task DecodeAsync_LineExactlyAtLimitWithCrlf_Accepted()
    {
        var options = new IngestOptions { MaxLineBytes = 256, MaxFieldBytes = 64 };
        var line = Access(1);
        line = line[..^1] + ",\"pad\":\"" + new string('p', 256 - line.Length - 9) + "\"}";
        Assert.Equal(256, line.Length);

        var result = await IngestHarness.DecodeAsync(Encoding.UTF8.GetBytes(line + "\r\n" + line + "x\r\n"), "generic", options, chunkSize: 16);

        Assert.Single(result.Events);
        Assert.Equal("line 2 is 257 bytes; the limit is 256", Assert.Single(result.Rejected).Reason);
    }

    [Fact]
    public async Task DecodeAsync_BodyOverLimit_Throws413()
    {
        var options = new IngestOptions { MaxBodyBytes = 4096, MaxLineBytes = 1024, MaxFieldBytes = 256 };
        var body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => Access(i) + "\n")));

        var ex = await Assert.ThrowsAsync<IngestLimitException>(() => IngestHarness.DecodeAsync(body, "generic", options, chunkSize: 512));

        Assert.Equal(413, ex.StatusCode);
        Assert.Contains("4096", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecodeAsync_BodyAtLimit_Accepted()
    {
        var body = Encoding.UTF8.GetBytes(Access(1) + "\n");
        var options = new IngestOptions { MaxBodyBytes = 1024, MaxLineBytes = 256, MaxFieldBytes = 64 };
        var padded = body.Concat(Enumerable.Repeat((byte)'\n', 1024 - body.Length)).ToArray();

        var result = await IngestHarness.DecodeAsync(padded, "generic", options);

        Assert.Single(result.Events);
        Assert.Equal(1024, result.Summary.Bytes);
    }

    [Fact]
    public async Task DecodeAsync_GzipBody_Decompressed()
    {
        var plain = Encoding.UTF8.GetBytes(IngestHarness.Lines(Access(1), Access(2)));
        using var body = new MemoryStream(Gzip(plain));
        var reader = LineDecoder.OpenBody(body, gzip: true);

        var result = await IngestHarness.RunAsync(new LineDecoder(new IngestOptions()), reader, "generic", 100);
        await reader.CompleteAsync();

        Assert.Equal(2, result.Events.Count);
        Assert.Equal(plain.Length, result.Summary.Bytes);
    }

    [Fact]
    public async Task DecodeAsync_GzipBomb_Throws413()
    {
        // 8 MiB of newlines compresses to about 8 KiB; the limit here is 1 MiB.
        var plain = new byte[8 * 1024 * 1024];
        plain.AsSpan().Fill((byte)'\n');
        var bomb = Gzip(plain);
        using var body = new MemoryStream(bomb);
        var reader = LineDecoder.OpenBody(body, gzip: true);

        var options = new IngestOptions { MaxBodyBytes = 1024 * 1024 };

        var ex = await Assert.ThrowsAsync<IngestLimitException>(() => IngestHarness.RunAsync(new LineDecoder(options), reader, "generic", 100));

        Assert.Equal(413, ex.StatusCode);
        Assert.True(bomb.Length < 64 * 1024);
    }

    [Fact]
    public async Task DecodeAsync_CorruptGzip_Throws400()
    {
        using var body = new MemoryStream([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0xff, 0xff, 0xff]);
        var reader = LineDecoder.OpenBody(body, gzip: true);

        var ex = await Assert.ThrowsAsync<IngestLimitException>(() => IngestHarness.RunAsync(new LineDecoder(new IngestOptions()), reader, "generic", 100));

        Assert.Equal(400, ex.StatusCode);
        Assert.StartsWith("request body is not valid gzip", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecodeAsync_BatchSize_CallsBackPerBatchWithLineNumbers()
    {
        var body = IngestHarness.Lines(Access(1), Access(2), "bad", "", Access(5), Access(6), Access(7));

        var result = await IngestHarness.DecodeAsync(body, "generic", batchSize: 2);

        Assert.Equal(
            [new BatchInfo(2, 0, 2, 0, 0, 1), new BatchInfo(2, 1, 2, 0, 1, 3), new BatchInfo(1, 0, 1, 0, 0, 7)],
            result.Batches);
        Assert.Equal(3, Assert.Single(result.Rejected).LineNumber);
        Assert.Equal("line 3: invalid JSON at byte 1 ('b' is an invalid start of a value)", result.Rejected[0].Reason);
    }

    [Fact]
    public async Task DecodeAsync_ManyRejections_FlushedInBatchesToo()
    {
        var body = string.Concat(Enumerable.Repeat("nope\n", 5));

        var result = await IngestHarness.DecodeAsync(body, "generic", batchSize: 2);

        Assert.Equal([2, 2, 1], result.Batches.Select(b => b.Rejected));
        Assert.Equal([1, 2, 3, 4, 5], result.Rejected.Select(r => r.LineNumber));
    }

    [Fact]
    public async Task DecodeAsync_BatchAfterCallback_IsDisposed()
    {
        var decoder = new LineDecoder(new IngestOptions());
        DecodedBatch? kept = null;
        var sum = 0;

        await decoder.DecodeAsync(
            PipeReader.Create(new System.Buffers.ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(Access(1)))),
            "generic",
            batch =>
            {
                kept = batch;
                sum += batch.EventSegment.Count + batch.Events.Length;
                return ValueTask.CompletedTask;
            },
            10,
            TestContext.Current.CancellationToken);

        Assert.Equal(2, sum);
        Assert.NotNull(kept);
        Assert.Throws<ObjectDisposedException>(() => kept.EventSegment);
    }

    [Fact]
    public async Task DecodeAsync_RejectedPayload_TruncatedTo4KiB()
    {
        var line = "{\"type\":\"access\",\"pad\":\"" + new string('q', 10000) + "\"}";

        var error = Assert.Single((await IngestHarness.DecodeAsync(line, "generic")).Rejected);

        Assert.Equal(LineError.MaxPayloadBytes, error.Payload.Length);
        Assert.Equal("line 1: missing required field 'ts'", error.Reason);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsWithEveryProblem()
    {
        var options = new IngestOptions { MaxLineBytes = 10 };
        options.Formats["syslog"] = new FormatOptions();

        var ex = Assert.Throws<ArgumentException>(() => new LineDecoder(options));

        Assert.Contains("Ingest:MaxLineBytes is 10", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Ingest:Formats key is 'syslog'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultPrincipalFields_PerFormat_MatchDocumentedOrder()
    {
        Assert.Equal(["user.username"], LineDecoder.DefaultPrincipalFields("k8s-audit"));
        Assert.Equal("downstream_peer_uri_san", LineDecoder.DefaultPrincipalFields("envoy")[0]);
        Assert.Empty(LineDecoder.DefaultPrincipalFields("gpu"));
    }

    private static byte[] Gzip(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(plain);
        }

        return output.ToArray();
    }
}
