using System.Globalization;
using System.Text;

namespace AnomalyZT.Silo.Samples;

// Zeek conn.log (TSV): what each node talks to, with volumes dominated by steady long-lived flows so a bucket's
// total moves only by the daily cycle and modest noise.
public static partial class SampleGenerator
{
    private const string ZeekFields = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\t" +
        "conn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents";

    private const string ZeekTypes = "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t" +
        "string\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]";

    private static readonly int[] ScanPorts = [21, 22, 23, 25, 80, 111, 135, 139, 443, 445, 2049, 2379, 3000, 3306, 5432, 5601, 6379, 6443, 8080, 8443, 9090, 9200, 10250, 27017];

    /// <summary>A kind of flow a node originates: <paramref name="PerBucket"/> is the expected count (the whole part
    /// always, the fraction by chance; every kind occurs at least once in the set's first bucket, so 0 means "then only"); <paramref name="Diurnal"/> scales the bytes by the daily cycle; flows gated on
    /// <paramref name="Training"/> run only while the group's training job does.</summary>
    private sealed record FlowKind(string Dst, int Port, string Proto, string Service, double PerBucket, double OrigBytes, double RespBytes,
        double DurationS, bool Training = false, bool Diurnal = false);

    private sealed record NodeFlows(Group Group, NodeInfo Node, FlowKind[] Kinds);

    private sealed class ZeekSource
    {
        private readonly Random _rng;
        private readonly IncidentSchedule _schedule;
        private readonly JobPlan _jobs;
        private readonly List<NodeFlows> _nodes = [];
        private readonly Group[] _groups;
        private readonly StringBuilder _line = new(256);
        private long _firstBucketUs = long.MinValue;

        public ZeekSource(Random rng, Topology topology, IncidentSchedule schedule, JobPlan jobs)
        {
            _rng = rng;
            _schedule = schedule;
            _jobs = jobs;
            _groups = topology.Groups;
            foreach (var g in topology.Groups)
            {
                FlowKind dns = new(DnsIp, 53, "udp", "dns", 0.25, 74, 190, 0.002);
                FlowKind api = new(ApiServerIp, 6443, "tcp", "ssl", 0.1, 5200, 7400, 30);
                FlowKind ntp = new(NtpIp, 123, "udp", "ntp", 0.03, 48, 48, 0.001);
                // Image and model pulls happen when a node boots (the first bucket) and never after: a rare large
                // flow would stand out against a quiet node's baseline.
                FlowKind images = new(ImageRegistryIp, 5000, "tcp", "http", 0, 1800, 2.4e6, 3);
                for (var t = 0; t < 2; t++)
                {
                    var peer = t == 0 ? g.Training1 : g.Training0;
                    _nodes.Add(new NodeFlows(g, t == 0 ? g.Training0 : g.Training1,
                    [
                        new(peer.HostIp, 29500, "tcp", "-", 1, 11e9, 11e9, 598, Training: true),
                        new(g.Data.HostIp, 8080, "tcp", "http", 1, 0.3e6, 110e6, 540, Training: true),
                        new(ObjectStoreIp, 443, "tcp", "ssl", 0.1, 2.1e6, 9000, 4),
                        dns, api, ntp, images,
                    ]));
                }

                _nodes.Add(new NodeFlows(g, g.Standby, [dns with { PerBucket = 0.6 }, api with { PerBucket = 0.15 }, ntp, images]));
                _nodes.Add(new NodeFlows(g, g.Inference, [dns, api, ntp, images, new(ObjectStoreIp, 443, "tcp", "ssl", 0, 0.2e6, 3.1e6, 6)]));
                _nodes.Add(new NodeFlows(g, g.Data, [new(ObjectStoreIp, 443, "tcp", "ssl", 1, 0.4e6, 150e6, 580), dns, api, ntp]));
                _nodes.Add(new NodeFlows(g, g.Gateway,
                [
                    new(g.Inference.HostIp, 8000, "tcp", "http", 1, 2.6e6, 0.5e6, 599, Diurnal: true),
                    new(g.Inference.HostIp, 8001, "tcp", "http", 1, 0.9e6, 0.2e6, 599, Diurnal: true),
                    dns, api, ntp,
                ]));
            }
        }

        public static string Header(long hourUs) =>
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t" + ZeekTime(hourUs) + "\n" +
            "#fields\t" + ZeekFields + "\n#types\t" + ZeekTypes + "\n";

        public static string Footer(long endUs) => "#close\t" + ZeekTime(endUs) + "\n";

        private static string ZeekTime(long us) => UtcTime(us).ToString("yyyy-MM-dd-HH-mm-ss", CultureInfo.InvariantCulture);

        public void Emit(long bucketUs, LineBuffer output)
        {
            if (_firstBucketUs == long.MinValue)
            {
                _firstBucketUs = bucketUs;
            }

            // In the first bucket every node touches every destination it ever uses, so none is new later.
            var first = bucketUs == _firstBucketUs;
            var load = Diurnal(bucketUs, 0.2);
            foreach (var (group, node, kinds) in _nodes)
            {
                var training = _jobs.At(group.Index, bucketUs + BucketMicros / 2) is not null;
                foreach (var k in kinds)
                {
                    if (k.Training && !training && !first)
                    {
                        continue;
                    }

                    var count = (int)k.PerBucket + (_rng.NextDouble() < k.PerBucket % 1 ? 1 : 0);
                    var scale = k.Diurnal ? load : 1;
                    for (var i = 0; i < Math.Max(count, first ? 1 : 0); i++)
                    {
                        var us = bucketUs + _rng.NextInt64(BucketMicros - 2 * SecondMicros);
                        var seconds = k.DurationS * (0.8 + 0.4 * _rng.NextDouble());
                        Flow(output, us, node.HostIp, k.Dst, k.Port, k.Proto, k.Service, seconds,
                            Noisy(_rng, k.OrigBytes * scale, 0.08), Noisy(_rng, k.RespBytes * scale, 0.08));
                    }
                }
            }

            // Clients on the internet reach each gateway.
            foreach (var g in _groups)
            {
                var clients = 1 + (_rng.NextDouble() < 0.3 * load ? 1 : 0);
                for (var i = 0; i < clients; i++)
                {
                    var client = "198.51.100." + (10 + _rng.Next(30)).ToString(CultureInfo.InvariantCulture);
                    Flow(output, bucketUs + _rng.NextInt64(BucketMicros - 2 * SecondMicros), client, g.Gateway.HostIp, 443, "tcp", "ssl",
                        20 + 40 * _rng.NextDouble(), Noisy(_rng, 0.3e6, 0.2), Noisy(_rng, 1.2e6, 0.2));
                }
            }

            EmitIncidents(bucketUs, output);
        }

        private void EmitIncidents(long bucketUs, LineBuffer output)
        {
            var g = _groups[0];
            if (_schedule.Mining is { } mining && mining.Contains(bucketUs))
            {
                Flow(output, bucketUs + _rng.NextInt64(5 * SecondMicros), g.Standby.HostIp, MiningPoolIp, MiningPoolPort, "tcp", "-",
                    590 + 8 * _rng.NextDouble(), Noisy(_rng, 45_000, 0.1), Noisy(_rng, 28_000, 0.1));
            }

            if (_schedule.Scan is { } scan && scan.Contains(bucketUs))
            {
                // Sweep the /24 across the window's buckets, one or two ports a host.
                var buckets = (int)((scan.ToUs - scan.FromUs) / BucketMicros);
                var index = (int)((bucketUs - scan.FromUs) / BucketMicros);
                var from = 1 + 254 * index / buckets;
                var to = 1 + 254 * (index + 1) / buckets;
                var step = (BucketMicros - 10 * SecondMicros) / (to - from);
                for (var host = from; host < to; host++)
                {
                    var us = bucketUs + (host - from) * step;
                    var dst = ScanPrefix + host.ToString(CultureInfo.InvariantCulture);
                    Probe(output, us, g.Data.HostIp, dst, ScanPorts[_rng.Next(ScanPorts.Length)]);
                    if (host % 8 == 0)
                    {
                        Probe(output, us + 1500, g.Data.HostIp, dst, ScanPorts[_rng.Next(ScanPorts.Length)]);
                    }
                }
            }
        }

        private void Probe(LineBuffer output, long us, string src, string dst, int port)
        {
            var roll = _rng.NextDouble();
            var (state, history, duration, respPkts) = roll < 0.85 ? ("S0", "S", "-", 0) : roll < 0.97 ? ("REJ", "Sr", "0.000412", 1) : ("RSTO", "ShAR", "0.001210", 1);
            var bytes = state == "S0" ? "-" : "0";
            Row(output, us, src, EphemeralPort(_rng), dst, port, "tcp", "-", duration, bytes, bytes, state, history,
                1, 44, respPkts, respPkts * 40);
        }

        private void Flow(LineBuffer output, long us, string src, string dst, int port, string proto, string service, double seconds, long orig, long resp)
        {
            var tcp = proto == "tcp";
            var overhead = tcp ? 52 : 28;
            var origPkts = Math.Max(1, orig / 1448 + (tcp ? 4 : 0));
            var respPkts = Math.Max(1, resp / 1448 + (tcp ? 3 : 0));
            var duration = seconds.ToString("0.000000", CultureInfo.InvariantCulture);
            Row(output, us, src, EphemeralPort(_rng), dst, port, proto, service, duration,
                orig.ToString(CultureInfo.InvariantCulture), resp.ToString(CultureInfo.InvariantCulture), "SF", tcp ? "ShADadFf" : "Dd",
                origPkts, orig + origPkts * overhead, respPkts, resp + respPkts * overhead);
        }

        private void Row(LineBuffer output, long us, string src, int srcPort, string dst, int port, string proto, string service, string duration,
            string origBytes, string respBytes, string state, string history, long origPkts, long origIpBytes, long respPkts, long respIpBytes)
        {
            var sb = _line.Clear();
            var inv = CultureInfo.InvariantCulture;
            sb.Append(inv, $"{us / SecondMicros}.{us % SecondMicros:D6}\tC{Token(_rng, Alphanumeric, 17)}\t{src}\t{srcPort}\t{dst}\t{port}\t{proto}\t{service}\t");
            sb.Append(inv, $"{duration}\t{origBytes}\t{respBytes}\t{state}\t{Local(src)}\t{Local(dst)}\t0\t{history}\t");
            sb.Append(inv, $"{origPkts}\t{origIpBytes}\t{respPkts}\t{respIpBytes}\t-");
            output.Add(us, sb.ToString());
        }

        private static string Local(string ip) => ip.StartsWith("10.", StringComparison.Ordinal) ? "T" : "F";
    }
}
