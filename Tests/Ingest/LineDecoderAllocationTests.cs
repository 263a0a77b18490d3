using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;

namespace AnomalyZT.Tests.Ingest;

/// <summary>Allocation budget: past a fixed per-body cost, decoding allocates only the strings that go into events.
/// A body read from an in-memory sequence decodes synchronously, so the thread's allocation counter sees all of it.</summary>
public sealed class LineDecoderAllocationTests
{
    private const int LineCount = 2000;

    // Per-body costs (decoder session, pooled-array bookkeeping, batch objects, the async state machine).
    private const long PerBodyBytes = 4 * 1024;

    [Theory]
    [InlineData("envoy", """{"start_time":"2024-05-01T10:00:00.123Z","method":"GET","path":"/reviews/0?ts=17","protocol":"HTTP/1.1","response_code":200,"response_flags":"-","bytes_received":17,"bytes_sent":295,"duration":3,"upstream_service_time":"2","x_forwarded_for":null,"user_agent":"Mozilla/5.0 (X11; Linux x86_64)","request_id":"8b1f6c1e-6f0b-9a0e-a3a0-3b0e5a1a7c42","authority":"reviews:9080","upstream_host":"10.244.0.12:9080","upstream_cluster":"inbound|9080||","downstream_remote_address":"10.244.0.9:47526","downstream_peer_uri_san":"spiffe://cluster.local/ns/default/sa/productpage"}""")]
    [InlineData("k8s-audit", """{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"1f6e8c0a","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ml/pods","verb":"create","user":{"username":"alice","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.3.7"],"userAgent":"kubectl/v1.29.3","objectRef":{"resource":"pods","namespace":"ml","name":"trainer-0"},"responseStatus":{"code":201},"requestObject":{"kind":"Pod","spec":{"containers":[{"name":"c","image":"img","args":["a","b","c"],"env":[{"name":"A","value":"1"}]}]}},"responseObject":{"kind":"Pod","metadata":{"name":"trainer-0","labels":{"app":"t"}}},"stageTimestamp":"2024-05-01T10:00:00.130021Z","annotations":{"authorization.k8s.io/decision":"allow"}}""")]
    [InlineData("zeek-conn", """{"ts":1591367999.305988,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","service":"dns","duration":0.066,"orig_bytes":62,"resp_bytes":141,"conn_state":"SF","history":"Dd","orig_pkts":2,"resp_pkts":2}""")]
    [InlineData("gpu", """{"timestamp":"2024-05-01T10:00:00Z","Hostname":"gpu-node-3","gpu":"0","UUID":"GPU-5fd4bd52","modelName":"NVIDIA H100","DCGM_FI_DEV_GPU_UTIL":73,"DCGM_FI_DEV_FB_USED":1234,"DCGM_FI_DEV_POWER_USAGE":250.5,"pod":"trainer-0","namespace":"ml"}""")]
    public async Task DecodeAsync_ManyLines_AllocatesOnlyEventStrings(string format, string line)
    {
        var decoder = new LineDecoder(new IngestOptions());
        var body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(line + "\n", LineCount)));
        var expectedStrings = 0L;
        await decoder.DecodeAsync(PipeReader.Create(new ReadOnlySequence<byte>(body)), format, batch =>
        {
            foreach (var evt in batch.Events)
            {
                expectedStrings += StringBytes(evt);
            }

            return ValueTask.CompletedTask;
        }, 256, TestContext.Current.CancellationToken);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var summary = await decoder.DecodeAsync(PipeReader.Create(new ReadOnlySequence<byte>(body)), format, static _ => ValueTask.CompletedTask, 256, TestContext.Current.CancellationToken);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(LineCount, summary.Accepted - summary.Filtered);
        Assert.True(expectedStrings > 0);
        Assert.True(
            allocated <= expectedStrings + PerBodyBytes,
            $"{format}: allocated {allocated} bytes for {LineCount} lines ({allocated / LineCount} per line); the event strings need {expectedStrings / LineCount} per line");
    }

    private static long StringBytes(EngineEvent evt) => evt.Kind switch
    {
        EventKind.Access => Size(evt.Access.Principal) + Size(evt.Access.SourceIp) + Size(evt.Access.UserAgent)
            + Size(evt.Access.Resource) + Size(evt.Access.SessionId) + Size(evt.Access.Node)
            + (evt.Access.Action is "GET" or "create" ? 0 : Size(evt.Access.Action)),
        EventKind.Flow => Size(evt.Flow.SrcIp) + Size(evt.Flow.DstIp) + Size(evt.Flow.Exporter),
        _ => Size(evt.Gpu.Node) + Size(evt.Gpu.GpuUuid) + Size(evt.Gpu.Pod) + Size(evt.Gpu.Namespace),
    };

    // A string on 64-bit .NET: 8-byte header, method table, 4-byte length, UTF-16 chars and a terminator, 8-aligned.
    private static long Size(string? text) => text is null ? 0 : (20 + (2 * (text.Length + 1)) + 7) & ~7L;
}
