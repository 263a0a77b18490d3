using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Tests.Ingest;

public sealed class GenericParserTests
{
    [Fact]
    public async Task DecodeAsync_AccessLine_MapsEveryField()
    {
        const string line = """{"type":"access","ts":"2024-05-01T10:00:00Z","principal":"alice@example.com","source_ip":"198.51.100.23","user_agent":"curl/8.5.0","action":"download","resource":"s3://reports/q1.pdf","outcome":"success","status":200,"bytes_in":312,"bytes_out":1048576,"node":"edge-1","session":"sess-42"}""";

        var access = (await IngestHarness.DecodeAsync(line, "generic")).SingleAccess();

        Assert.Equal(
            new AccessEvent(1714557600000, "alice@example.com", PrincipalSource.Field, "198.51.100.23", "curl/8.5.0", "download", "s3://reports/q1.pdf", Outcome.Success, 200, 312, 1048576, "edge-1", "sess-42"),
            access);
    }

    [Fact]
    public async Task DecodeAsync_AccessWithoutPrincipal_UsesSourceIp()
    {
        const string line = """{"ts":1714557600,"source_ip":"198.51.100.23","outcome":"DENIED","type":"access"}""";

        var access = (await IngestHarness.DecodeAsync(line, "generic")).SingleAccess();

        Assert.Equal(("198.51.100.23", PrincipalSource.SourceAddress, Outcome.Denied), (access.Principal, access.PrincipalSource, access.Outcome));
    }

    [Fact]
    public async Task DecodeAsync_FlowLine_MapsEveryField()
    {
        const string line = """{"type":"flow","ts":1714557600123,"src_ip":"10.0.0.5","src_port":51512,"dst_ip":"10.0.9.9","dst_port":5432,"proto":"tcp","orig_bytes":9000,"resp_bytes":120000,"packets":140,"duration_ms":2500,"exporter":"vpc-flow-eu1"}""";

        var flow = (await IngestHarness.DecodeAsync(line, "generic")).SingleFlow();

        Assert.Equal(new FlowEvent(1714557600123, "10.0.0.5", 51512, "10.0.9.9", 5432, 6, 9000, 120000, 140, 2500, "vpc-flow-eu1"), flow);
    }

    [Fact]
    public async Task DecodeAsync_FlowNumericProto_IsKept()
    {
        const string line = """{"type":"flow","ts":1714557600,"src_ip":"10.0.0.5","dst_ip":"10.0.9.9","proto":47}""";

        Assert.Equal(47, (await IngestHarness.DecodeAsync(line, "generic")).SingleFlow().Protocol);
    }

    [Fact]
    public async Task DecodeAsync_GpuLine_MapsEveryField()
    {
        const string line = """{"type":"gpu","ts":"2024-05-01T10:00:00Z","node":"gpu-node-3","gpu_uuid":"GPU-5fd4","gpu":2,"util":88.5,"mem_used_mib":40960,"power_w":610.25,"pod":"trainer-0","namespace":"ml"}""";

        var gpu = (await IngestHarness.DecodeAsync(line, "generic")).SingleGpu();

        Assert.Equal(new GpuSample(1714557600000, "gpu-node-3", "GPU-5fd4", 2, 88.5, 40960, 610.25, "trainer-0", "ml"), gpu);
    }

    [Theory]
    [InlineData("""{"ts":1714557600,"principal":"a"}""", "line 1: missing required field 'type'")]
    [InlineData("""{"type":"access","principal":"a"}""", "line 1: missing required field 'ts'")]
    [InlineData("""{"type":"login","ts":1714557600}""", "line 1: field 'type' is 'login'; expected access, flow or gpu")]
    [InlineData("""{"type":"access","ts":1714557600}""", "line 1: no principal: none of [principal] present and no source address")]
    [InlineData("""{"type":"access","ts":1714557600,"principal":"a","outcome":"maybe"}""", "line 1: field 'outcome' is 'maybe'; expected success, failure, denied or unknown")]
    [InlineData("""{"type":"access","ts":1714557600,"principal":"a","status":"ok"}""", "line 1: field 'status' is not a number")]
    [InlineData("""{"type":"flow","ts":1714557600,"dst_ip":"10.0.0.1"}""", "line 1: missing required field 'src_ip'")]
    [InlineData("""{"type":"flow","ts":1714557600,"src_ip":"10.0.0.1"}""", "line 1: missing required field 'dst_ip'")]
    [InlineData("""{"type":"flow","ts":1714557600,"src_ip":"a","dst_ip":"b","proto":300}""", "line 1: field 'proto' must be tcp, udp, icmp or a protocol number 0-255")]
    [InlineData("""{"type":"gpu","ts":1714557600,"util":5}""", "line 1: missing required field 'node'")]
    [InlineData("""{"type":"gpu","ts":1e20,"node":"n"}""", "line 1: field 'ts' is out of range for a timestamp")]
    public async Task DecodeAsync_BadLine_RejectsWithSpecificReason(string line, string expected)
    {
        Assert.Equal(expected, (await IngestHarness.DecodeAsync(line, "generic")).SingleReason());
    }
}
