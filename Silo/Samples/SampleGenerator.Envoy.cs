using System.Globalization;

namespace AnomalyZT.Silo.Samples;

// Istio/Envoy JSON access logs (the 24 EnvoyJSONLogFormatIstio keys, plus the principal): mesh service accounts,
// logged inbound at the server's sidecar with their SPIFFE id, and one person through the ingress gateway.
public static partial class SampleGenerator
{
    private const string ChromeUserAgent =
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    /// <summary>A service behind a sidecar; or, when <paramref name="Gateway"/> is set, a public name served through the
    /// ingress gateway pod at that address, which forwards to the in-mesh <paramref name="Backend"/>.</summary>
    private sealed record EnvoyService(string Host, int Port, string ServerIp, string Protocol, string? Gateway = null, string? Backend = null);

    /// <summary>One request shape: a resource of a service with its typical sizes.</summary>
    private sealed record EnvoyTarget(string Method, string Path, EnvoyService Service, double BytesSent, double BytesReceived, double DurationMs);

    private sealed class EnvoyIdentity
    {
        public required string Principal { get; init; }

        /// <summary>A person: principal in <c>x_forwarded_user</c>, client address in <c>x_forwarded_for</c>.</summary>
        public required bool Person { get; init; }

        public required EnvoyTarget[] Targets { get; init; }

        /// <summary>Targets are read in order, round and round (dataset shards, epoch after epoch).</summary>
        public bool Sequential { get; init; }

        /// <summary>When positive, the client streams this many bytes a bucket (times the daily cycle) whatever the
        /// number of requests it splits them into, as a data loader reading at a steady throughput does; otherwise
        /// each request returns its target's size.</summary>
        public double BucketBytes { get; init; }

        public required string[] SourceIps { get; init; }

        public required string[] UserAgents { get; init; }

        public double FailureRate { get; init; }

        public int FailureCode { get; init; } = 503;

        /// <summary>Active hours of day (UTC), [from, to); a person works days only.</summary>
        public int FromHour { get; init; }

        public int ToHour { get; init; } = 24;

        public int TargetCursor;
        public int IpCursor;
        public int AgentCursor;
    }

    private sealed class EnvoySource
    {
        private readonly Random _rng;
        private readonly IncidentSchedule _schedule;
        private readonly List<EnvoyIdentity> _identities = [];
        private readonly EnvoyIdentity _reader;
        private readonly EnvoyIdentity _alice;

        public EnvoySource(Random rng, Topology topology, IncidentSchedule schedule)
        {
            _rng = rng;
            _schedule = schedule;
            foreach (var group in topology.Groups)
            {
                AddGroup(group);
            }

            _reader = _identities.Find(i => i.Principal == schedule.ExfilPrincipal)!;
            _alice = _identities.Find(i => i.Principal == schedule.StuffedPerson)!;
        }

        private void AddGroup(Group g)
        {
            var dataset = new EnvoyService($"dataset-svc.{g.Ns("data")}.svc.cluster.local", 8080, g.Data.PodIp(12), "HTTP/1.1");
            var registry = new EnvoyService($"model-registry.{g.Ns("registry")}.svc.cluster.local", 8080, g.Data.PodIp(30), "HTTP/1.1");
            var objects = new EnvoyService($"minio.{g.Ns("storage")}.svc.cluster.local", 9000, g.Data.PodIp(40), "HTTP/1.1");
            var triton = new EnvoyService($"triton.{g.Ns("ml-serve")}.svc.cluster.local", 8000, g.Inference.PodIp(15), "HTTP/2");
            var portal = new EnvoyService($"registry{g.Suffix}.ml.corp.example", 8080, g.Data.PodIp(30), "HTTP/2", g.Gateway.PodIp(5), registry.Host);

            // Few enough shards and partitions that a client reads them all in its first active buckets.
            var shards = new EnvoyTarget[20];
            for (var i = 0; i < shards.Length; i++)
            {
                shards[i] = new EnvoyTarget("GET", $"/v1/datasets/imagenet/shards/{i:D4}", dataset, 48e6, 0, 650);
            }

            var tars = new EnvoyTarget[16];
            for (var i = 0; i < tars.Length; i++)
            {
                tars[i] = new EnvoyTarget("GET", $"/ml-datasets/coco/train2017/shard-{i:D5}.tar", objects, 32e6, 0, 480);
            }

            var partitions = new EnvoyTarget[16];
            for (var i = 0; i < partitions.Length; i++)
            {
                var table = i < 8 ? "user_features" : "item_features";
                partitions[i] = new EnvoyTarget("GET", $"/v1/datasets/{table}/partitions/{i % 8}?format=parquet", dataset, 2.5e6, 0, 120);
            }

            _identities.Add(new EnvoyIdentity
            {
                Principal = g.Spiffe("ml-train", "trainer"), Person = false, Targets = shards, Sequential = true, BucketBytes = 96e6,
                SourceIps = [g.Training0.PodIp(23), g.Training1.PodIp(31)], UserAgents = ["torchdata-client/0.9.1 python/3.11.9"],
                FailureRate = 0.003,
            });
            _identities.Add(new EnvoyIdentity
            {
                Principal = g.Spiffe("ml-train", "data-loader"), Person = false, Targets = tars, Sequential = true, BucketBytes = 64e6,
                SourceIps = [g.Training0.PodIp(44)], UserAgents = ["aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 api/s3#1.58.2"],
                FailureRate = 0.003,
            });
            _identities.Add(new EnvoyIdentity
            {
                Principal = g.Spiffe("ml-serve", "inference"), Person = false,
                Targets =
                [
                    new("POST", "/v2/models/resnet50/infer", triton, 4200, 602_000, 18),
                    new("POST", "/v2/models/bert-base/infer", triton, 3100, 8400, 9),
                    new("GET", "/api/registry/models/resnet50/versions/7", registry, 2100, 0, 6),
                    new("GET", "/api/registry/models/bert-base/versions/2", registry, 1900, 0, 6),
                ],
                SourceIps = [g.Inference.PodIp(16), g.Gateway.PodIp(17)], UserAgents = ["inference-router/1.9.0 grpc-go/1.64.0"],
                FailureRate = 0.005,
            });
            _identities.Add(new EnvoyIdentity
            {
                Principal = g.Spiffe("feature-store", "reader"), Person = false, Targets = partitions, BucketBytes = 5e6,
                SourceIps = [g.Gateway.PodIp(61), g.Gateway.PodIp(62)], UserAgents = ["feast-python/0.40.1 python-requests/2.32.3"],
                FailureRate = 0.003,
            });
            _identities.Add(new EnvoyIdentity
            {
                Principal = g.Spiffe("ci", "model-publisher"), Person = false,
                Targets =
                [
                    new("GET", "/api/registry/models/resnet50/versions", registry, 6100, 0, 14),
                    new("GET", "/api/registry/models/bert-base/versions", registry, 5200, 0, 12),
                    new("GET", "/api/registry/models/llama-7b/versions", registry, 5800, 0, 13),
                    new("GET", "/api/registry/models/llama-7b/versions/3/artifacts/manifest.json", registry, 12_400, 0, 21),
                ],
                SourceIps = [g.Data.PodIp(70)], UserAgents = ["model-publisher/2.3.0 (ci) python-requests/2.32.3"],
                FailureRate = 0.01, FailureCode = 502,
            });
            _identities.Add(new EnvoyIdentity
            {
                Principal = g.Person("alice"), Person = true,
                Targets =
                [
                    new("GET", "/api/registry/models", portal, 9100, 0, 25),
                    new("GET", "/api/registry/models/llama-7b/versions/3", portal, 3300, 0, 11),
                    new("GET", "/api/registry/models/llama-7b/versions/3/metrics", portal, 24_000, 0, 40),
                    new("GET", "/api/registry/models/resnet50/versions/7", portal, 3100, 0, 10),
                ],
                SourceIps = [g.VpnIp(0)], UserAgents = [ChromeUserAgent], FailureRate = 0.01, FailureCode = 404,
                FromHour = 9, ToHour = 18,
            });
        }

        public void Emit(long bucketUs, LineBuffer output)
        {
            var hour = (int)HourOfDay(bucketUs);
            var load = Diurnal(bucketUs, 0.2);
            foreach (var id in _identities)
            {
                if (hour < id.FromHour || hour >= id.ToHour)
                {
                    continue;
                }

                // A steady client is busy in every bucket; how many requests it needs varies.
                var count = 1 + (_rng.NextDouble() < 0.1 * load ? 1 : 0);
                var share = id.BucketBytes > 0 ? Noisy(_rng, id.BucketBytes * load, 0.06) / (double)count : 0;
                for (var i = 0; i < count; i++)
                {
                    var target = id.Sequential
                        ? id.Targets[id.TargetCursor++ % id.Targets.Length]
                        : Cycle(_rng, id.Targets, ref id.TargetCursor);
                    var failed = _rng.NextDouble() < id.FailureRate;
                    var status = failed ? id.FailureCode : 200;
                    var sent = failed ? _rng.Next(90, 220) : Noisy(_rng, share > 0 ? share : target.BytesSent, 0.05);
                    var received = target.BytesReceived > 0 ? Noisy(_rng, target.BytesReceived, 0.2) : 0;
                    var duration = Noisy(_rng, share > 0 ? target.DurationMs * share / target.BytesSent : target.DurationMs, 0.25);
                    var source = Cycle(_rng, id.SourceIps, ref id.IpCursor);
                    var agent = Cycle(_rng, id.UserAgents, ref id.AgentCursor);
                    Write(output, bucketUs + RandomOffset(), id, target, status, received, sent, duration, source, agent);
                }
            }

            EmitIncidents(bucketUs, output);
        }

        private void EmitIncidents(long bucketUs, LineBuffer output)
        {
            if (_schedule.Exfil is { } exfil && exfil.Contains(bucketUs))
            {
                // Whole partitions pulled from a foreign workload holding the reader's identity.
                for (var i = 0; i < 4; i++)
                {
                    var target = _reader.Targets[_rng.Next(_reader.Targets.Length)];
                    var sent = Noisy(_rng, 80e6, 0.1);
                    Write(output, bucketUs + RandomOffset(), _reader, target, 200, 0, sent, Noisy(_rng, 6500, 0.2), ExfilSourceIp, ExfilUserAgent);
                }
            }

            if (_schedule.Stuffing is { } stuffing && stuffing.Contains(bucketUs))
            {
                var target = _alice.Targets[0];
                for (var i = 0; i < 30; i++)
                {
                    Write(output, bucketUs + RandomOffset(), _alice, target, 401, 0, _rng.Next(58, 64), _rng.Next(2, 6), StuffingSourceIp, StuffingUserAgent);
                }
            }
        }

        private long RandomOffset() => _rng.NextInt64(BucketMicros - 2 * SecondMicros);

        private void Write(LineBuffer output, long us, EnvoyIdentity id, EnvoyTarget target, int status, long received, long sent,
            long durationMs, string source, string agent)
        {
            var service = target.Service;
            var upstreamFailed = status is 502 or 503;
            var server = service.ServerIp + ":" + service.Port.ToString(CultureInfo.InvariantCulture);
            var w = output.BeginJson();
            w.WriteStartObject();
            w.WriteString("start_time", IsoMillis(us));
            w.WriteString("route_name", "default");
            w.WriteString("method", target.Method);
            w.WriteString("path", target.Path);
            w.WriteString("protocol", service.Protocol);
            w.WriteNumber("response_code", status);
            w.WriteString("response_flags", upstreamFailed ? "UF" : "-");
            w.WriteString("response_code_details", upstreamFailed ? "upstream_reset_before_response_started{connection_failure}" : "via_upstream");
            w.WriteNull("connection_termination_details");
            w.WriteNumber("bytes_received", received);
            w.WriteNumber("bytes_sent", sent);
            w.WriteNumber("duration", durationMs);
            if (upstreamFailed)
            {
                w.WriteNull("upstream_service_time");
            }
            else
            {
                w.WriteString("upstream_service_time", Math.Max(1, durationMs - 1).ToString(CultureInfo.InvariantCulture));
            }

            if (id.Person)
            {
                w.WriteString("x_forwarded_for", source);
            }
            else
            {
                w.WriteNull("x_forwarded_for");
            }

            w.WriteString("user_agent", agent);
            w.WriteString("request_id", Uuid(_rng));
            w.WriteString("authority", service.Gateway is not null ? service.Host : service.Host + ":" + service.Port.ToString(CultureInfo.InvariantCulture));
            w.WriteString("upstream_host", server);
            if (service.Gateway is { } gateway)
            {
                // Logged at the ingress gateway: outbound to the service, the client on the other side.
                w.WriteString("upstream_cluster", $"outbound|{service.Port}||{service.Backend}");
                w.WriteString("upstream_local_address", $"{gateway}:{EphemeralPort(_rng)}");
                w.WriteString("downstream_local_address", gateway + ":8443");
                w.WriteString("downstream_remote_address", $"{source}:{EphemeralPort(_rng)}");
                w.WriteString("requested_server_name", service.Host);
            }
            else
            {
                // Logged inbound at the server's sidecar: the peer's SPIFFE id is the caller.
                w.WriteString("upstream_cluster", $"inbound|{service.Port}||");
                w.WriteString("upstream_local_address", $"127.0.0.6:{EphemeralPort(_rng)}");
                w.WriteString("downstream_local_address", server);
                w.WriteString("downstream_remote_address", $"{source}:{EphemeralPort(_rng)}");
                w.WriteString("requested_server_name", $"outbound_.{service.Port}_._.{service.Host}");
            }

            if (upstreamFailed)
            {
                w.WriteString("upstream_transport_failure_reason", "delayed connect error: 111");
            }
            else
            {
                w.WriteNull("upstream_transport_failure_reason");
            }

            w.WriteString(id.Person ? "x_forwarded_user" : "downstream_peer_uri_san", id.Principal);
            w.WriteEndObject();
            output.EndJson(us);
        }
    }
}
