using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.DropIn;

namespace AnomalyZT.Tests.Ingest.DropIn;

public sealed class OtlpJsonReaderTests
{
    // What the OpenTelemetry Collector's otlphttp exporter (encoding: json) posts to /v1/logs: 64-bit integers as
    // strings, lowerCamelCase field names, AnyValue objects.
    private const string CollectorLogs = """
        {"resourceLogs":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"model-gateway"}},
            {"key":"host.name","value":{"stringValue":"gpu-node-3"}}]},
          "scopeLogs":[{"scope":{"name":"otelcol/filelogreceiver","version":"0.104.0"},"logRecords":[
            {"timeUnixNano":"1714557600123000000","observedTimeUnixNano":"1714557600200000000","severityNumber":9,"severityText":"INFO",
             "body":{"stringValue":"GET /v1/models 200"},
             "attributes":[
               {"key":"user.name","value":{"stringValue":"svc-trainer"}},
               {"key":"client.address","value":{"stringValue":"10.1.2.3"}},
               {"key":"user_agent.original","value":{"stringValue":"python-requests/2.31"}},
               {"key":"http.request.method","value":{"stringValue":"GET"}},
               {"key":"url.path","value":{"stringValue":"/v1/models"}},
               {"key":"http.response.status_code","value":{"intValue":"200"}},
               {"key":"http.response.body.size","value":{"intValue":4096}},
               {"key":"sampled","value":{"boolValue":true}},
               {"key":"ratio","value":{"doubleValue":0.5}},
               {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"2"}]}}},
               {"key":"peer","value":{"kvlistValue":{"values":[{"key":"zone","value":{"stringValue":"eu-1"}}]}}}],
             "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"},
            {"timeUnixNano":"0","observedTimeUnixNano":"1714557601000000000",
             "body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"denied"}},{"key":"code","value":{"intValue":"403"}}]}},
             "attributes":[{"key":"client.address","value":{"stringValue":"10.9.9.9"}},{"key":"http.response.status_code","value":{"intValue":"403"}}]}
          ]}]}]}
        """;

    [Fact]
    public void ReadLogs_CollectorExport_FlattensResourceAndRecordAttributes()
    {
        var r = OtlpJsonReader.ReadLogs(Encoding.UTF8.GetBytes(CollectorLogs));

        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Items);
        var first = r.Records[0];
        Assert.Equal((1714557600123L, 9, "INFO", "GET /v1/models 200"), (first.TimeMs, first.SeverityNumber, first.SeverityText, first.Body));
        Assert.Equal("model-gateway", first.Attributes["service.name"]);
        Assert.Equal("200", first.Attributes["http.response.status_code"]);
        Assert.Equal("4096", first.Attributes["http.response.body.size"]);
        Assert.Equal("true", first.Attributes["sampled"]);
        Assert.Equal("0.5", first.Attributes["ratio"]);
        Assert.Equal("""["a",2]""", first.Attributes["tags"]);
        Assert.Equal("eu-1", first.Attributes["peer.zone"]);

        var second = r.Records[1];
        Assert.Equal(1714557601000L, second.TimeMs);
        Assert.Equal("""{"msg":"denied","code":403}""", second.Body);
        Assert.Equal("denied", second.Attributes["body.msg"]);
    }

    [Fact]
    public void TryToAccessEvent_DefaultSemanticConventions_MapsEveryField()
    {
        var r = OtlpJsonReader.ReadLogs(Encoding.UTF8.GetBytes(CollectorLogs));

        Assert.True(OtlpJsonReader.TryToAccessEvent(r.Records[0], null, out var a, out _));
        Assert.Equal(
            (1714557600123L, "svc-trainer", PrincipalSource.Field, "10.1.2.3", "python-requests/2.31", "GET", "/v1/models", Outcome.Success, 200, 4096L, "gpu-node-3"),
            (a.TimestampMs, a.Principal, a.PrincipalSource, a.SourceIp, a.UserAgent, a.Action, a.Resource, a.Outcome, a.StatusCode, a.BytesOut, a.Node));

        Assert.True(OtlpJsonReader.TryToAccessEvent(r.Records[1], null, out var denied, out _));
        Assert.Equal(("10.9.9.9", PrincipalSource.SourceAddress, Outcome.Denied), (denied.Principal, denied.PrincipalSource, denied.Outcome));
    }

    [Fact]
    public void TryToAccessEvent_CustomMapping_UsesTheConfiguredNames()
    {
        var r = OtlpJsonReader.ReadLogs(Encoding.UTF8.GetBytes(CollectorLogs));
        var mapping = new OtlpAccessMapping { Principal = ["service.name"], Resource = ["peer.zone"], Status = ["none"] };

        Assert.True(OtlpJsonReader.TryToAccessEvent(r.Records[0], mapping, out var a, out _));
        Assert.Equal(("model-gateway", "eu-1", Outcome.Unknown, 0), (a.Principal, a.Resource, a.Outcome, a.StatusCode));
    }

    [Fact]
    public void TryToAccessEvent_NoPrincipalNoAddress_Rejected()
    {
        const string body = """{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1714557600000000000","body":{"stringValue":"x"}}]}]}]}""";
        var record = Assert.Single(OtlpJsonReader.ReadLogs(Encoding.UTF8.GetBytes(body)).Records);

        Assert.False(OtlpJsonReader.TryToAccessEvent(record, null, out _, out var reason));
        Assert.StartsWith("no principal", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadLogs_MalformedRecords_RejectedPerRecord()
    {
        const string body = """
            {"resourceLogs":[{"scopeLogs":[{"logRecords":[
              {"timeUnixNano":"1714557600000000000"},
              "not a record",
              {"timeUnixNano":"-5"},
              {"timeUnixNano":"1714557600000000000","severityNumber":"INFO"},
              {"observedTimeUnixNano":"1714557600000000000"}]}]}]}
            """;

        var r = OtlpJsonReader.ReadLogs(Encoding.UTF8.GetBytes(body));

        Assert.Equal(5, r.Items);
        Assert.Equal(r.Items, r.Records.Count + r.Errors.Count);
        Assert.Equal([0, 4], r.Records.Select(x => x.Index));
        Assert.Equal(
            [(1, "log record is not an object"), (2, "field 'timeUnixNano' is not an unsigned integer of nanoseconds"), (3, "field 'severityNumber' is not an integer")],
            r.Errors.Select(e => (e.Index, e.Reason)));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"resourceMetrics":[]}""")]
    [InlineData("[]")]
    public void ReadLogs_NotALogsBody_OneRejectedItem(string body)
    {
        var r = OtlpJsonReader.ReadLogs(Encoding.UTF8.GetBytes(body));

        Assert.Empty(r.Records);
        Assert.Equal(1, r.Items);
    }

    // The Collector scraping dcgm-exporter with the prometheus receiver and exporting with otlphttp: labels become
    // data-point attributes; gauges carry asDouble, counters-as-sums asInt (string).
    private const string CollectorDcgmMetrics = """
        {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"dcgm-exporter"}},
            {"key":"host.name","value":{"stringValue":"fallback-host"}}]},
          "scopeMetrics":[{"scope":{"name":"otelcol/prometheusreceiver"},"metrics":[
            {"name":"DCGM_FI_DEV_GPU_UTIL","description":"GPU utilization (in %).","gauge":{"dataPoints":[
              {"attributes":[{"key":"gpu","value":{"stringValue":"0"}},{"key":"UUID","value":{"stringValue":"GPU-aaa"}},
                {"key":"Hostname","value":{"stringValue":"gpu-node-3"}},{"key":"pod","value":{"stringValue":"trainer-0"}},
                {"key":"namespace","value":{"stringValue":"ml"}}],"timeUnixNano":"1714557600000000000","asDouble":73},
              {"attributes":[{"key":"gpu","value":{"stringValue":"1"}},{"key":"UUID","value":{"stringValue":"GPU-bbb"}},
                {"key":"hostname","value":{"stringValue":"gpu-node-3"}}],"timeUnixNano":"1714557600000000000","asDouble":9223372036854775794}]}},
            {"name":"DCGM_FI_DEV_FB_USED","gauge":{"dataPoints":[
              {"attributes":[{"key":"gpu","value":{"stringValue":"0"}},{"key":"UUID","value":{"stringValue":"GPU-aaa"}},
                {"key":"Hostname","value":{"stringValue":"gpu-node-3"}},{"key":"pod","value":{"stringValue":"trainer-0"}},
                {"key":"namespace","value":{"stringValue":"ml"}}],"timeUnixNano":"1714557600000000000","asInt":"40960"}]}},
            {"name":"DCGM_FI_DEV_POWER_USAGE","sum":{"aggregationTemporality":2,"dataPoints":[
              {"attributes":[{"key":"gpu","value":{"stringValue":"0"}},{"key":"UUID","value":{"stringValue":"GPU-aaa"}},
                {"key":"Hostname","value":{"stringValue":"gpu-node-3"}}],"timeUnixNano":"1714557600000000000","asDouble":250.5}]}},
            {"name":"DCGM_FI_DEV_GPU_TEMP","gauge":{"dataPoints":[{"timeUnixNano":"1714557600000000000","asDouble":61}]}}
          ]}]}]}
        """;

    [Fact]
    public void ReadGpuMetrics_CollectorExport_GroupsThreeMetricsPerHostGpuAndTime()
    {
        var r = OtlpJsonReader.ReadGpuMetrics(Encoding.UTF8.GetBytes(CollectorDcgmMetrics));

        Assert.Empty(r.Errors);
        Assert.Equal(4, r.Items);
        Assert.Equal(1, r.SkippedMetrics);
        Assert.Equal(2, r.Samples.Count);
        var g0 = r.Samples[0];
        Assert.Equal(
            (1714557600000L, "gpu-node-3", "GPU-aaa", 0, 73.0, 40960.0, 250.5, "trainer-0", "ml"),
            (g0.TimestampMs, g0.Node, g0.GpuUuid, g0.GpuIndex, g0.UtilPct, g0.MemUsedMiB, g0.PowerW, g0.Pod, g0.Namespace));
        var g1 = r.Samples[1];
        Assert.Equal((1, "GPU-bbb"), (g1.GpuIndex, g1.GpuUuid));
        Assert.True(double.IsNaN(g1.UtilPct) && double.IsNaN(g1.MemUsedMiB) && double.IsNaN(g1.PowerW));
    }

    [Fact]
    public void ReadGpuMetrics_MalformedPoints_RejectedPerPoint()
    {
        const string body = """
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[
              {"name":"DCGM_FI_DEV_GPU_UTIL","gauge":{"dataPoints":[
                {"attributes":[{"key":"Hostname","value":{"stringValue":"n1"}}],"timeUnixNano":"1714557600000000000","asDouble":5},
                {"attributes":[{"key":"gpu","value":{"stringValue":"0"}}],"timeUnixNano":"1714557600000000000","asDouble":5},
                {"attributes":[{"key":"Hostname","value":{"stringValue":"n1"}}],"asDouble":5},
                {"attributes":[{"key":"Hostname","value":{"stringValue":"n1"}},{"key":"gpu","value":{"stringValue":"first"}}],"timeUnixNano":"1714557600000000000","asDouble":5},
                {"attributes":[{"key":"Hostname","value":{"stringValue":"n1"}}],"timeUnixNano":"1714557600000000000","asInt":"many"}]}},
              {"name":"DCGM_FI_DEV_FB_USED","histogram":{"dataPoints":[]}}]}]}]}
            """;

        var r = OtlpJsonReader.ReadGpuMetrics(Encoding.UTF8.GetBytes(body));

        Assert.Equal(6, r.Items);
        Assert.Equal(r.Items, r.AcceptedPoints + r.Errors.Count);
        Assert.Equal(1, r.AcceptedPoints);
        var sample = Assert.Single(r.Samples);
        Assert.Equal(("n1", -1, 5.0), (sample.Node, sample.GpuIndex, sample.UtilPct));
        Assert.Equal([1, 2, 3, 4, 5], r.Errors.Select(e => e.Index));
        Assert.Contains("missing label 'Hostname'", r.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("missing required field 'timeUnixNano'", r.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("label 'gpu' is not a GPU index", r.Errors[2].Reason, StringComparison.Ordinal);
        Assert.Contains("'asInt' is not an integer", r.Errors[3].Reason, StringComparison.Ordinal);
        Assert.Contains("neither a gauge nor a sum", r.Errors[4].Reason, StringComparison.Ordinal);
    }
}
