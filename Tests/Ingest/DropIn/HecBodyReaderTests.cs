using System.Text;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.DropIn;

namespace AnomalyZT.Tests.Ingest.DropIn;

public sealed class HecBodyReaderTests
{
    private const string EnvoyLine = """{"start_time":"2024-05-01T10:00:00.000Z","method":"GET","path":"/v1/models","protocol":"HTTP/1.1","response_code":200,"bytes_received":0,"bytes_sent":512,"duration":3,"user_agent":"curl/8.5.0","request_id":"r-1","downstream_remote_address":"10.1.2.3:51000"}""";

    private static HecReadResult Read(string body) => HecBodyReader.Read(Encoding.UTF8.GetBytes(body));

    private static void AssertCountsAddUp(HecReadResult r) => Assert.Equal(r.Items, r.Events.Count + r.Errors.Count);

    [Fact]
    public void Read_FluentBitSplunkOutput_ConcatenatedEnvelopesWithTimeAndEvent()
    {
        // Fluent Bit's splunk output: one {"time":<epoch.frac>,"event":<record>} per record, concatenated with no separator;
        // event_host/event_sourcetype add host/sourcetype.
        var body = "{\"time\":1714557600.123456789,\"host\":\"node-1\",\"sourcetype\":\"envoy\",\"event\":" + EnvoyLine + "}"
            + "{\"time\":1714557601.5,\"host\":\"node-1\",\"sourcetype\":\"envoy\",\"event\":" + EnvoyLine + "}";

        var r = Read(body);

        AssertCountsAddUp(r);
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Events.Count);
        Assert.Equal(1714557600123L, r.Events[0].TimeMs);
        Assert.Equal(1714557601500L, r.Events[1].TimeMs);
        Assert.Equal(("node-1", "envoy", 1), (r.Events[1].Host, r.Events[1].Sourcetype, r.Events[1].Index));
        Assert.Equal(EnvoyLine, Encoding.UTF8.GetString(r.Events[0].Line));
    }

    [Fact]
    public async Task Read_EnvoyEventBySourcetype_DecodesWithTheEnvoyParser()
    {
        var r = Read("{\"time\":1714557600,\"sourcetype\":\"istio:access\",\"event\":" + EnvoyLine + "}");
        var evt = Assert.Single(r.Events);
        var format = HecBodyReader.FormatForSourcetype(evt.Sourcetype, "generic");

        var access = (await IngestHarness.DecodeAsync(evt.Line, format!)).SingleAccess();

        Assert.Equal("envoy", format);
        Assert.Equal(("GET", "/v1/models", 512L, "10.1.2.3"), (access.Action, access.Resource, access.BytesOut, access.SourceIp));
    }

    [Fact]
    public void Read_VectorSplunkHecLogs_NewlineSeparatedWithFieldsAndIndex()
    {
        // Vector's splunk_hec_logs sink (encoding.codec = json): event, fields, time, host, index, source, sourcetype.
        const string body = """
            {"event":{"message":"GET /healthz 200","kubernetes":{"pod_name":"api-0"}},"fields":{"cluster":"prod","shard":3},"time":1714557600.25,"host":"vector-agent-0","index":"main","source":"/var/log/pods/api.log","sourcetype":"generic"}
            {"event":{"message":"POST /login 401"},"fields":{},"time":1714557601,"host":"vector-agent-0","index":"main","sourcetype":"generic"}

            """;

        var r = Read(body);

        AssertCountsAddUp(r);
        Assert.Equal(2, r.Events.Count);
        var first = r.Events[0];
        Assert.Equal(("main", "/var/log/pods/api.log", 1714557600250L), (first.IndexName, first.Source, first.TimeMs));
        Assert.Equal("prod", first.Fields["cluster"]);
        Assert.Equal("3", first.Fields["shard"]);
        Assert.Equal("""{"message":"GET /healthz 200","kubernetes":{"pod_name":"api-0"}}""", Encoding.UTF8.GetString(first.Line));
    }

    [Fact]
    public void Read_LogstashHttpOutputStringEvent_PassesTheStringAsTheLine()
    {
        // Logstash http output (format => json, mapping => {"event" => "%{message}" "sourcetype" => "k8s-audit"}).
        const string body = """{"event":"{\"kind\":\"Event\",\"verb\":\"get\"}","sourcetype":"kube:apiserver:audit","time":"1714557600.5"}""";

        var r = Read(body);

        var evt = Assert.Single(r.Events);
        Assert.Equal("""{"kind":"Event","verb":"get"}""", Encoding.UTF8.GetString(evt.Line));
        Assert.Equal(1714557600500L, evt.TimeMs);
        Assert.Equal("k8s-audit", HecBodyReader.FormatForSourcetype(evt.Sourcetype));
    }

    [Fact]
    public void Read_MalformedItems_RejectedPerItemWithSplunkCodes()
    {
        const string body = """
            {"event":{"a":1}}
            {"time":1,"host":"h"}
            {"event":null}
            {"event":""}
            {"event":42}
            [1,2]
            {"event":{"a":
            {"event":{"b":2},"time":"yesterday"}
            {"event":{"c":3},"fields":[1]}
            {"event":{"d":4},"index":7}
            {"event":"plain text line"}
            """;

        var r = Read(body);

        AssertCountsAddUp(r);
        Assert.Equal(11, r.Items);
        Assert.Equal([0, 10], r.Events.Select(e => e.Index));
        Assert.Equal(
            [(1, 12), (2, 13), (3, 13), (4, 6), (5, 6), (6, 6), (7, 6), (8, 15), (9, 7)],
            r.Errors.Select(e => (e.Index, e.Code)));
        Assert.Contains("missing required field 'event'", r.Errors[0].Reason, StringComparison.Ordinal);
        Assert.StartsWith("invalid JSON", r.Errors[5].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SyntaxErrorWithoutNewline_RestIsOneRejectedItem()
    {
        var r = Read("""{"event":{"a":1}}{"event":{"b":}{"event":{"c":3}}""");

        AssertCountsAddUp(r);
        Assert.Single(r.Events);
        Assert.Equal(1, Assert.Single(r.Errors).Index);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n ")]
    public void Read_EmptyBody_NoItemsAndNoDataReply(string body)
    {
        var r = Read(body);
        var (status, reply) = HecResponse.For(r);

        Assert.Equal(0, r.Items);
        Assert.Equal(400, status);
        Assert.Equal("""{"text":"No data","code":5}""", Encoding.UTF8.GetString(reply));
    }

    [Fact]
    public void For_SuccessAndFirstError_MatchSplunkReplies()
    {
        var ok = HecResponse.For(Read("""{"event":"x"}"""));
        var bad = HecResponse.For(Read("{\"event\":\"x\"}\n{\"time\":1}\n{\"event\":null}"));

        Assert.Equal((200, """{"text":"Success","code":0}"""), (ok.HttpStatus, Encoding.UTF8.GetString(ok.Body)));
        Assert.Equal(400, bad.HttpStatus);
        using var doc = JsonDocument.Parse(bad.Body);
        Assert.Equal("Event field is required", doc.RootElement.GetProperty("text").GetString());
        Assert.Equal(12, doc.RootElement.GetProperty("code").GetInt32());
        Assert.Equal(1, doc.RootElement.GetProperty("invalid-event-number").GetInt32());
    }

    [Theory]
    [InlineData(HecResponse.InvalidToken, 403, "Invalid token")]
    [InlineData(HecResponse.TokenRequired, 401, "Token is required")]
    [InlineData(HecResponse.ServerBusy, 503, "Server is busy")]
    [InlineData(HecResponse.EventFieldBlank, 400, "Event field cannot be blank")]
    public void HttpStatusAndText_FollowSplunkTable(int code, int status, string text)
    {
        Assert.Equal((status, text), (HecResponse.HttpStatus(code), HecResponse.Text(code)));
    }

    [Theory]
    [InlineData("envoy", "envoy")]
    [InlineData("aws:cloudtrail", "cloudtrail")]
    [InlineData("bro:conn:json", "zeek-conn")]
    [InlineData("DCGM", "gpu")]
    [InlineData("_json", "generic")]
    [InlineData("syslog", "fallback")]
    [InlineData(null, "fallback")]
    public void FormatForSourcetype_MapsKnownNames(string? sourcetype, string expected)
    {
        Assert.Equal(expected, HecBodyReader.FormatForSourcetype(sourcetype, "fallback"));
    }

    [Fact]
    public async Task Read_GpuEvent_DecodesWithTheGpuParser()
    {
        const string body = """{"time":1714557600,"sourcetype":"gpu","event":{"timestamp":"2024-05-01T10:00:00Z","Hostname":"gpu-node-3","gpu":"0","DCGM_FI_DEV_GPU_UTIL":73}}""";

        var evt = Assert.Single(Read(body).Events);
        var gpu = (await IngestHarness.DecodeAsync(evt.Line, HecBodyReader.FormatForSourcetype(evt.Sourcetype)!)).SingleGpu();

        Assert.Equal(("gpu-node-3", 73.0), (gpu.Node, gpu.UtilPct));
        Assert.Equal(EventKind.Gpu, EngineEvent.From(gpu).Kind);
    }

    [Fact]
    public async Task Read_OffsetTimestampAndNonAscii_ReserialisedSoTheGenericParserReadsThem()
    {
        const string body = """{"sourcetype":"_json","event":{"type":"access","ts":"2024-05-01T12:00:00+02:00","principal":"j\u00fcrgen","source_ip":"198.51.100.23","action":"<list>"}}""";

        var evt = Assert.Single(Read(body).Events);
        var access = (await IngestHarness.DecodeAsync(evt.Line, HecBodyReader.FormatForSourcetype(evt.Sourcetype)!)).SingleAccess();

        Assert.Equal((1714557600000L, "jürgen", "<list>"), (access.TimestampMs, access.Principal, access.Action));
    }

    [Fact]
    public void Read_PrettyPrintedEventAndEscapedNames_AreOneLineAndRecognised()
    {
        const string body = "{\"ev\\u0065nt\": {\n  \"a\": 1,\n  \"b\": \"x y\"\n}, \"sourcetype\": \"envoy\", \"fields\": {\"n\": 5, \"s\": \"t\", \"o\": {\"deep\": [1]}}}";
        var read = HecBodyReader.Read(Encoding.UTF8.GetBytes(body));
        var e = Assert.Single(read.Events);
        Assert.Equal("{\"a\":1,\"b\":\"x y\"}", Encoding.UTF8.GetString(e.Line));
        Assert.Equal("envoy", e.Sourcetype);
        Assert.Equal(2, e.Fields.Count);
        Assert.Equal("5", e.Fields["n"]);
    }

    [Fact]
    public void Read_AMultiLineStringEvent_StaysOneRecord()
    {
        var read = Read("{\"event\":\"Exception in thread main\\n  at a.b(c)\\r\\n  at d.e(f)\"}");
        var e = Assert.Single(read.Events);
        Assert.DoesNotContain((byte)'\n', e.Line);
        Assert.Equal("Exception in thread main   at a.b(c)   at d.e(f)", Encoding.UTF8.GetString(e.Line));
    }

    [Fact]
    public void Read_RandomAndTruncatedBodies_NeverThrow_AndCountEveryEnvelope()
    {
        var seed = Encoding.UTF8.GetBytes(
            "{\"time\":1700000000.5,\"host\":\"h\",\"sourcetype\":\"envoy\",\"index\":\"main\",\"fields\":{\"k\":\"v\"},\"event\":{\"a\":[1,{\"b\":null}]}}\n"
            + "{\"event\":\"a line\",\"time\":\"2026-11-22T10:00:00Z\"}{\"event\":null}\n[1]\n{\"event\":{\"x\":1},\"time\":true}");
        var random = new Random(1122);
        for (var n = 0; n < 100_000; n++)
        {
            var input = (byte[])seed.Clone();
            switch (n % 3)
            {
                case 0:
                    input = input[..random.Next(input.Length + 1)];
                    break;
                case 1:
                    for (var k = random.Next(1, 4); k > 0; k--)
                    {
                        input[random.Next(input.Length)] = (byte)random.Next(256);
                    }

                    break;
                default:
                    input = new byte[random.Next(48)];
                    random.NextBytes(input);
                    break;
            }

            var read = HecBodyReader.Read(input);
            Assert.Equal(read.Events.Count + read.Errors.Count, read.Items);
            Assert.All(read.Events, ev => Assert.NotEmpty(ev.Line));
        }
    }
}
