using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;

namespace AnomalyZT.Tests.Ingest;

/// <summary>Property tests: whatever the bytes, decoding never throws and the line accounting always adds up.</summary>
public sealed class LineDecoderFuzzTests
{
    private static readonly (string Format, string Line)[] Corpus =
    [
        ("envoy", """{"start_time":"2024-05-01T10:00:00.123Z","method":"GET","path":"/a?b","response_code":200,"bytes_received":"0","bytes_sent":295,"x_forwarded_for":"203.0.113.7, 10.0.0.2","user_agent":"curl/8","request_id":"r-1","authority":"svc:80","downstream_remote_address":"[2001:db8::7]:51000","x_forwarded_client_cert":"Hash=1;Subject=\"CN=a,O=b\";URI=spiffe://c/ns/d/sa/e"}"""),
        ("k8s-audit", """{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","requestURI":"/api/v1/pods?x","verb":"list","user":{"username":"alice","groups":["g"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","subresource":"log","namespace":"ns","name":"p"},"responseStatus":{"code":403},"requestObject":{"a":[1,{"b":null}]},"stageTimestamp":"2024-05-01T10:00:00.130021Z","annotations":{"authorization.k8s.io/decision":"forbid"}}"""),
        ("k8s-audit", """{"kind":"Event","stage":"RequestReceived","user":{"username":"bob"},"requestReceivedTimestamp":"2024-05-01T10:00:00Z"}"""),
        ("zeek-conn", """{"ts":1591367999.305988,"uid":"C1","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","duration":0.06,"orig_bytes":62,"resp_bytes":141,"orig_pkts":2,"resp_pkts":2}"""),
        ("zeek-conn", "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\n1591367999.3\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t0.5"),
        ("gpu", """{"timestamp":"2024-05-01T10:00:00Z","labels":{"Hostname":"n1","gpu":"0","UUID":"GPU-1"},"DCGM_FI_DEV_GPU_UTIL":9223372036854775794,"DCGM_FI_DEV_FB_USED":"12","DCGM_FI_DEV_POWER_USAGE":250.5}"""),
        ("generic", """{"type":"access","ts":1714557600,"principal":"caf\u00e9","source_ip":"10.0.0.1","outcome":"denied","status":403,"bytes_out":12}"""),
        ("generic", """{"type":"flow","ts":"2024-05-01T10:00:00Z","src_ip":"a","dst_ip":"b","proto":"udp","src_port":53}"""),
        ("generic", """{"type":"gpu","ts":1714557600123,"node":"n","util":50,"gpu":"3"}"""),
    ];

    private static readonly byte[] Interesting = "{}[]\":,\\\n\r\t -0123456789.eE+#utfnl\u00e9"u8.ToArray();

    [Fact]
    public async Task DecodeAsync_RandomBytes_NeverThrowsAndCountsAddUp()
    {
        var random = new Random(20240501);
        var decoder = new LineDecoder(SmallLimits());
        for (var i = 0; i < 1500; i++)
        {
            var body = new byte[random.Next(0, 700)];
            random.NextBytes(body);
            for (var j = 0; j < body.Length; j++)
            {
                // Bias towards structure so the parsers get past the first byte.
                if (random.Next(3) == 0)
                {
                    body[j] = Interesting[random.Next(Interesting.Length)];
                }
            }

            await CheckAsync(decoder, body, LineDecoder.Formats.ElementAt(random.Next(5)), random);
        }
    }

    [Fact]
    public async Task DecodeAsync_MutatedValidLines_NeverThrowsAndCountsAddUp()
    {
        var random = new Random(42);
        var decoder = new LineDecoder(SmallLimits());
        var mutatedAndStillAccepted = 0;
        for (var i = 0; i < 3000; i++)
        {
            var (format, line) = Corpus[random.Next(Corpus.Length)];
            var bytes = new List<byte>(Encoding.UTF8.GetBytes(line));
            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations; m++)
            {
                Mutate(bytes, random);
            }

            var body = bytes.Concat("\n"u8.ToArray()).Concat(Encoding.UTF8.GetBytes(line)).ToArray();
            var result = await CheckAsync(decoder, body, format, random);
            mutatedAndStillAccepted += result.Summary.Accepted > 1 ? 1 : 0;
        }

        // The mutations must leave a fair share of lines valid, or this only tests the JSON tokenizer.
        Assert.InRange(mutatedAndStillAccepted, 100, 2900);
    }

    [Fact]
    public async Task DecodeAsync_ValidCorpus_EveryLineAccepted()
    {
        var decoder = new LineDecoder(new IngestOptions());
        foreach (var (format, line) in Corpus)
        {
            var result = await IngestHarness.RunAsync(decoder, PipeReader.Create(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line))), format, 10);

            Assert.True(result.Rejected.Count == 0, format + ": " + string.Join("; ", result.Rejected.Select(r => r.Reason)));
            Assert.Equal(result.Summary.Lines - result.Summary.ControlLines, result.Summary.Accepted);
        }
    }

    private static IngestOptions SmallLimits() => new() { MaxLineBytes = 300, MaxFieldBytes = 64, MaxBodyBytes = 1024 * 1024 };

    private static void Mutate(List<byte> bytes, Random random)
    {
        var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
        switch (random.Next(7))
        {
            case 0 when bytes.Count > 0:
                bytes[at] = (byte)random.Next(256);
                break;
            case 1:
                bytes.Insert(at, Interesting[random.Next(Interesting.Length)]);
                break;
            case 2 when bytes.Count > 0:
                bytes.RemoveRange(at, Math.Min(random.Next(1, 12), bytes.Count - at));
                break;
            case 3:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 4 when bytes.Count > 0:
                bytes.InsertRange(at, bytes.GetRange(at, Math.Min(random.Next(1, 40), bytes.Count - at)));
                break;
            case 5:
                // Swap a digit for another: keeps JSON valid but moves values across range limits.
                var digit = bytes.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                if (digit >= 0)
                {
                    bytes[digit] = (byte)('0' + random.Next(10));
                }

                break;
            default:
                bytes.InsertRange(at, "\"\\u00"u8.ToArray());
                break;
        }
    }

    private static async Task<DecodeResult> CheckAsync(LineDecoder decoder, byte[] body, string format, Random random)
    {
        var batchSize = random.Next(1, 5);
        var result = random.Next(4) switch
        {
            0 => await IngestHarness.RunAsync(decoder, PipeReader.Create(new ReadOnlySequence<byte>(body)), format, batchSize),
            1 => await IngestHarness.RunAsync(decoder, PipeReader.Create(IngestHarness.Segmented(body, random.Next(1, 8))), format, batchSize),
            2 => await IngestHarness.RunAsync(decoder, PipeReader.Create(IngestHarness.Segmented(body, random.Next(8, 200))), format, batchSize),

            // A real pipe fed concurrently: partial reads, long lines skipped while they stream in.
            _ => await IngestHarness.DecodeAsync(decoder, body, format, batchSize, random.Next(1, 120)),
        };

        var s = result.Summary;
        Assert.Equal(s.Lines, s.Accepted + s.Rejected + s.ControlLines);
        Assert.Equal(s.Accepted, result.Events.Count + s.Filtered);
        Assert.Equal(s.Rejected, result.Rejected.Count);
        Assert.Equal(body.Length, s.Bytes);
        Assert.Equal(s.Lines, body.Count(b => b == (byte)'\n') + (body.Length > 0 && body[^1] != (byte)'\n' ? 1 : 0));
        foreach (var evt in result.Events)
        {
            // The strings the event model declares non-nullable are never null.
            var required = evt.Kind switch
            {
                EventKind.Access => evt.Access.Principal,
                EventKind.Flow => evt.Flow.SrcIp + evt.Flow.DstIp,
                _ => evt.Gpu.Node,
            };
            Assert.False(string.IsNullOrWhiteSpace(required));
        }

        var previous = 0;
        foreach (var error in result.Rejected)
        {
            Assert.InRange(error.LineNumber, previous + 1, s.Lines);
            Assert.StartsWith("line " + error.LineNumber, error.Reason, StringComparison.Ordinal);
            Assert.True(error.Payload.Length <= LineError.MaxPayloadBytes);
            previous = error.LineNumber;
        }

        return result;
    }
}
