using AnomalyZT.Ingest.DropIn;

namespace AnomalyZT.Tests.Ingest.DropIn;

/// <summary>The protobuf OTLP reader gives what the JSON reader gives for the same data, and survives random and
/// truncated input.</summary>
public sealed class OtlpProtobufReaderTests
{
    private const ulong Nanos = 1_760_000_000_123_000_000UL;

    private static byte[] Logs()
    {
        var record = new ProtoBuilder()
            .Fixed64(1, Nanos)
            .Varint(2, 9)
            .String(3, "INFO")
            .Message(5, new ProtoBuilder().String(1, "GET /v1/models"))
            .StringAttribute(6, "user.name", "proto-frank@corp")
            .StringAttribute(6, "client.address", "198.51.100.9")
            .StringAttribute(6, "url.path", "/v1/models")
            .IntAttribute(6, "http.response.status_code", 403)
            .Message(6, new ProtoBuilder().String(1, "http").Message(2, new ProtoBuilder().Message(6,
                new ProtoBuilder().StringAttribute(1, "route", "/v1/*"))));
        var noTime = new ProtoBuilder().Message(5, new ProtoBuilder().String(1, "no time"));
        var scope = new ProtoBuilder().Message(1, new ProtoBuilder().String(1, "envoy").StringAttribute(3, "scope.attr", "s")).Message(2, record).Message(2, noTime);
        var resource = new ProtoBuilder().Message(1, new ProtoBuilder().StringAttribute(1, "host.name", "edge-1")).Message(2, scope);
        return new ProtoBuilder().Message(1, resource).ToArray();
    }

    private static string LogsJson() => """
        {"resourceLogs":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"edge-1"}}]},
          "scopeLogs":[{"scope":{"name":"envoy","attributes":[{"key":"scope.attr","value":{"stringValue":"s"}}]},"logRecords":[
            {"timeUnixNano":"NANOS","severityNumber":9,"severityText":"INFO","body":{"stringValue":"GET /v1/models"},
             "attributes":[{"key":"user.name","value":{"stringValue":"proto-frank@corp"}},
                           {"key":"client.address","value":{"stringValue":"198.51.100.9"}},
                           {"key":"url.path","value":{"stringValue":"/v1/models"}},
                           {"key":"http.response.status_code","value":{"intValue":"403"}},
                           {"key":"http","value":{"kvlistValue":{"values":[{"key":"route","value":{"stringValue":"/v1/*"}}]}}}]},
            {"body":{"stringValue":"no time"}}]}]}]}
        """.Replace("NANOS", Nanos.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    [Fact]
    public void ReadLogs_SameDataAsJson_GivesTheSameRecordsAndAccessEvents()
    {
        var proto = OtlpProtobufReader.ReadLogs(Logs());
        var json = OtlpJsonReader.ReadLogs(System.Text.Encoding.UTF8.GetBytes(LogsJson()));
        Assert.Empty(proto.Errors);
        Assert.Equal(json.Records.Count, proto.Records.Count);
        for (var i = 0; i < json.Records.Count; i++)
        {
            var (p, j) = (proto.Records[i], json.Records[i]);
            Assert.Equal(j.TimeMs, p.TimeMs);
            Assert.Equal(j.SeverityNumber, p.SeverityNumber);
            Assert.Equal(j.SeverityText, p.SeverityText);
            Assert.Equal(j.Body, p.Body);
            Assert.Equal(j.Attributes.OrderBy(a => a.Key), p.Attributes.OrderBy(a => a.Key));
        }

        Assert.Equal("/v1/*", proto.Records[0].Attributes["http.route"]);
        Assert.True(OtlpJsonReader.TryToAccessEvent(proto.Records[0], null, out var access, out _));
        Assert.Equal("proto-frank@corp", access.Principal);
        Assert.Equal(AnomalyZT.Grains.Interfaces.Outcome.Denied, access.Outcome);
        Assert.False(OtlpJsonReader.TryToAccessEvent(proto.Records[1], null, out _, out var reason));
        Assert.Contains("timeUnixNano", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadGpuMetrics_GaugeAndSum_MergeIntoOneSample_NoRecordedValueIsMissing()
    {
        static ProtoBuilder Point(double? value, ulong flags = 0)
        {
            var p = new ProtoBuilder().Fixed64(3, Nanos).StringAttribute(7, "Hostname", "gpu-7").StringAttribute(7, "gpu", "1").StringAttribute(7, "UUID", "GPU-7");
            if (value is { } v)
            {
                p.Double(4, v);
            }

            return flags == 0 ? p : p.Varint(8, flags);
        }

        var util = new ProtoBuilder().String(1, "DCGM_FI_DEV_GPU_UTIL").Message(5, new ProtoBuilder().Message(1, Point(88)));
        var fb = new ProtoBuilder().Message(7, new ProtoBuilder().Message(1, new ProtoBuilder().Fixed64(3, Nanos)
                .StringAttribute(7, "Hostname", "gpu-7").StringAttribute(7, "gpu", "1").StringAttribute(7, "UUID", "GPU-7")
                .Fixed64(6, 30_000))).String(1, "DCGM_FI_DEV_FB_USED"); // name after the data
        var power = new ProtoBuilder().String(1, "DCGM_FI_DEV_POWER_USAGE").Message(5, new ProtoBuilder().Message(1, Point(250, flags: 1)));
        var other = new ProtoBuilder().String(1, "DCGM_FI_DEV_SM_CLOCK").Message(5, new ProtoBuilder().Message(1, Point(1400)));
        var noHost = new ProtoBuilder().String(1, "DCGM_FI_DEV_GPU_UTIL").Message(5, new ProtoBuilder().Message(1, new ProtoBuilder().Fixed64(3, Nanos).Double(4, 1)));
        var scope = new ProtoBuilder().Message(2, util).Message(2, fb).Message(2, power).Message(2, other).Message(2, noHost);
        var body = new ProtoBuilder().Message(1, new ProtoBuilder().Message(2, scope)).ToArray();

        var read = OtlpProtobufReader.ReadGpuMetrics(body);
        var sample = Assert.Single(read.Samples);
        Assert.Equal(88, sample.UtilPct);
        Assert.Equal(30_000, sample.MemUsedMiB);
        Assert.True(double.IsNaN(sample.PowerW));
        Assert.Equal(1, sample.GpuIndex);
        Assert.Equal(3, read.AcceptedPoints);
        Assert.Equal(1, read.SkippedMetrics);
        var error = Assert.Single(read.Errors);
        Assert.Contains("Hostname", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Readers_RandomAndTruncatedInput_NeverThrow_AndCountEveryItem()
    {
        var point = new ProtoBuilder().Fixed64(3, Nanos).Double(4, 5).StringAttribute(7, "Hostname", "h");
        var metric = new ProtoBuilder().String(1, "DCGM_FI_DEV_GPU_UTIL").Message(5, new ProtoBuilder().Message(1, point));
        var metrics = new ProtoBuilder().Message(1, new ProtoBuilder().Message(2, new ProtoBuilder().Message(2, metric))).ToArray();
        var seeds = new[] { Logs(), metrics };
        var random = new Random(20261122);
        var inputs = 0;
        for (var n = 0; n < 120_000; n++)
        {
            var seed = seeds[n % seeds.Length];
            var input = Mutate(seed, random);
            var logs = OtlpProtobufReader.ReadLogs(input);
            var gpu = OtlpProtobufReader.ReadGpuMetrics(input);
            Assert.Equal(logs.Records.Count + logs.Errors.Count, logs.Items);
            Assert.True(gpu.Samples.Count <= gpu.AcceptedPoints);
            inputs++;
        }

        Assert.Equal(120_000, inputs);
    }

    [Fact]
    public void DeeplyNestedValues_AreMalformed_NotAStackOverflow()
    {
        var value = new ProtoBuilder().String(1, "leaf");
        for (var i = 0; i < 200; i++)
        {
            value = new ProtoBuilder().Message(5, new ProtoBuilder().Message(1, value)); // array of array of …
        }

        var record = new ProtoBuilder().Fixed64(1, Nanos).Message(6, new ProtoBuilder().String(1, "deep").Message(2, value));
        var body = new ProtoBuilder().Message(1, new ProtoBuilder().Message(2, new ProtoBuilder().Message(2, record))).ToArray();
        var read = OtlpProtobufReader.ReadLogs(body);
        Assert.Empty(read.Records);
        Assert.Single(read.Errors);
    }

    [Fact]
    public void AHugeResource_RejectsItsRecords_InsteadOfCopyingItIntoEach()
    {
        var resource = new ProtoBuilder();
        for (var i = 0; i <= OtlpJsonReader.MaxAttributes; i++)
        {
            resource.StringAttribute(1, "r" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), "v");
        }

        var scope = new ProtoBuilder();
        for (var i = 0; i < 1000; i++)
        {
            scope.Message(2, new ProtoBuilder().Fixed64(1, Nanos));
        }

        var body = new ProtoBuilder().Message(1, new ProtoBuilder().Message(1, resource).Message(2, scope)).ToArray();
        var read = OtlpProtobufReader.ReadLogs(body);
        Assert.Empty(read.Records);
        Assert.Equal(1000, read.Errors.Count);
        Assert.Contains("more than 512 attributes", read.Errors[0].Reason, StringComparison.Ordinal);

        var json = "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
            + string.Join(",", Enumerable.Range(0, OtlpJsonReader.MaxAttributes + 1).Select(i => "{\"key\":\"r" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\",\"value\":{\"stringValue\":\"v\"}}"))
            + "]},\"scopeLogs\":[{\"logRecords\":[" + string.Join(",", Enumerable.Repeat("{\"timeUnixNano\":\"1\"}", 1000)) + "]}]}]}";
        var fromJson = OtlpJsonReader.ReadLogs(System.Text.Encoding.UTF8.GetBytes(json));
        Assert.Empty(fromJson.Records);
        Assert.Equal(1000, fromJson.Errors.Count);
    }

    [Fact]
    public void ALongKeyUnderAWideKvlist_IsRefusedBeforeItIsJoined()
    {
        var members = new ProtoBuilder();
        for (var i = 0; i < 1000; i++)
        {
            members.StringAttribute(1, "m" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), "v");
        }

        var record = new ProtoBuilder().Fixed64(1, Nanos)
            .Message(6, new ProtoBuilder().String(1, new string('k', 300)).Message(2, new ProtoBuilder().Message(6, members)));
        var body = new ProtoBuilder().Message(1, new ProtoBuilder().Message(2, new ProtoBuilder().Message(2, record))).ToArray();
        var read = OtlpProtobufReader.ReadLogs(body);
        Assert.Empty(read.Records);
        Assert.Contains("longer than 256", Assert.Single(read.Errors).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ABodyWithMoreRecordsThanTheBound_IsRefusedWhole()
    {
        var scope = new ProtoBuilder();
        for (var i = 0; i <= OtlpJsonReader.MaxRecords; i++)
        {
            scope.Bytes(2, []); // an empty LogRecord: two bytes each
        }

        var body = new ProtoBuilder().Message(1, new ProtoBuilder().Message(2, scope)).ToArray();
        var refused = Assert.Throws<AnomalyZT.Ingest.IngestLimitException>(() => OtlpProtobufReader.ReadLogs(body));
        Assert.Equal(413, refused.StatusCode);
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                return seed[..random.Next(seed.Length + 1)];
            case 1:
                var flipped = (byte[])seed.Clone();
                for (var i = random.Next(1, 6); i > 0; i--)
                {
                    flipped[random.Next(flipped.Length)] = (byte)random.Next(256);
                }

                return flipped;
            case 2:
                var noise = new byte[random.Next(64)];
                random.NextBytes(noise);
                return noise;
            default:
                var cut = random.Next(seed.Length);
                var insert = new byte[random.Next(1, 8)];
                random.NextBytes(insert);
                return [.. seed[..cut], .. insert, .. seed[cut..]];
        }
    }
}
