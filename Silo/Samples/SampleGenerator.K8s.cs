using System.Globalization;

namespace AnomalyZT.Silo.Samples;

// Kubernetes audit events (audit.k8s.io/v1, level Metadata): controllers and monitoring service accounts, CI, and two
// people with kubectl; one of them now and then asks for a secret she may not read.
public static partial class SampleGenerator
{
    private const string KubectlLinux = "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46";

    /// <summary>One request shape. <paramref name="Uri"/> may hold <c>{rv}</c>, replaced by a resource version.</summary>
    private sealed record K8sOp(string Verb, string Resource, string ApiVersion, string Uri, string? Namespace = null, string? Name = null,
        string? ApiGroup = null, string? Subresource = null, int Code = 200, int LatencyMs = 9, double Weight = 1);

    private sealed class K8sActor
    {
        public required string Username { get; init; }

        public required string[] Groups { get; init; }

        public required string SourceIp { get; init; }

        public required string UserAgent { get; init; }

        public required K8sOp[] Ops { get; init; }

        /// <summary>The RBAC decision reason on allowed requests.</summary>
        public required string Allow { get; init; }

        public required double ActiveProbability { get; init; }

        public int FromHour { get; init; }

        public int ToHour { get; init; } = 24;

        public string Uid { get; set; } = string.Empty;

        public int OpCursor;
        public int ActiveBuckets;
    }

    private sealed class K8sSource
    {
        private readonly Random _rng;
        private readonly List<K8sActor> _actors = [];

        public K8sSource(Random rng, Topology topology)
        {
            _rng = rng;
            foreach (var g in topology.Groups)
            {
                AddGroup(g);
            }

            foreach (var actor in _actors)
            {
                actor.Uid = Uuid(rng);
            }
        }

        private void AddGroup(Group g)
        {
            var train = g.Ns("ml-train");
            var serve = g.Ns("ml-serve");
            string[] sa(string ns) => ["system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"];
            _actors.Add(new K8sActor
            {
                Username = $"system:serviceaccount:{train}:training-operator", Groups = sa(train), SourceIp = g.Data.PodIp(81),
                UserAgent = "training-operator/v1.8.1 (linux/amd64) kubernetes/$Format", ActiveProbability = 0.3,
                Allow = $"RBAC: allowed by ClusterRoleBinding \"training-operator{g.Suffix}\" of ClusterRole \"training-operator\" to ServiceAccount \"training-operator/{train}\"",
                Ops =
                [
                    new("watch", "pods", "v1", $"/api/v1/namespaces/{train}/pods?allowWatchBookmarks=true&resourceVersion={{rv}}&watch=true", train, LatencyMs: 421_000),
                    new("list", "jobs", "v1", $"/apis/batch/v1/namespaces/{train}/jobs?limit=500", train, ApiGroup: "batch", LatencyMs: 14),
                    new("get", "configmaps", "v1", $"/api/v1/namespaces/{train}/configmaps/train-config", train, "train-config"),
                    new("watch", "pytorchjobs", "v1", $"/apis/kubeflow.org/v1/namespaces/{train}/pytorchjobs?resourceVersion={{rv}}&watch=true", train,
                        ApiGroup: "kubeflow.org", LatencyMs: 388_000),
                    new("create", "events", "v1", $"/api/v1/namespaces/{train}/events", train, Code: 201, LatencyMs: 6),
                ],
            });
            var monitoring = g.Ns("monitoring");
            _actors.Add(new K8sActor
            {
                Username = $"system:serviceaccount:{monitoring}:prometheus-k8s", Groups = sa(monitoring), SourceIp = g.Gateway.PodIp(90),
                UserAgent = "Prometheus/2.54.1", ActiveProbability = 0.25,
                Allow = $"RBAC: allowed by ClusterRoleBinding \"prometheus-k8s{g.Suffix}\" of ClusterRole \"prometheus-k8s\" to ServiceAccount \"prometheus-k8s/{monitoring}\"",
                Ops =
                [
                    new("list", "pods", "v1", "/api/v1/pods?limit=500&resourceVersion=0", LatencyMs: 31),
                    new("list", "endpoints", "v1", "/api/v1/endpoints?limit=500&resourceVersion=0", LatencyMs: 22),
                    new("list", "services", "v1", "/api/v1/services?limit=500&resourceVersion=0", LatencyMs: 17),
                    new("list", "nodes", "v1", "/api/v1/nodes?limit=500&resourceVersion=0", LatencyMs: 12),
                ],
            });
            var ci = g.Ns("ci");
            _actors.Add(new K8sActor
            {
                Username = $"system:serviceaccount:{ci}:model-publisher", Groups = sa(ci), SourceIp = g.Data.PodIp(70), UserAgent = KubectlLinux,
                ActiveProbability = 0.25,
                Allow = $"RBAC: allowed by RoleBinding \"model-publisher/{serve}\" of Role \"manifest-editor\" to ServiceAccount \"model-publisher/{ci}\"",
                Ops =
                [
                    new("get", "configmaps", "v1", $"/api/v1/namespaces/{serve}/configmaps/model-manifest", serve, "model-manifest"),
                    new("patch", "configmaps", "v1", $"/api/v1/namespaces/{serve}/configmaps/model-manifest?fieldManager=kubectl-patch", serve, "model-manifest",
                        LatencyMs: 15, Weight: 0.5),
                    new("get", "deployments", "v1", $"/apis/apps/v1/namespaces/{serve}/deployments/triton-resnet50", serve, "triton-resnet50", ApiGroup: "apps"),
                ],
            });
            var alice = g.Person("alice");
            _actors.Add(new K8sActor
            {
                Username = alice, Groups = ["ml-engineers", "system:authenticated"], SourceIp = g.VpnIp(0),
                UserAgent = "kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46", ActiveProbability = 0.5, FromHour = 9, ToHour = 18,
                Allow = $"RBAC: allowed by RoleBinding \"ml-engineers/{train}\" of ClusterRole \"edit\" to Group \"ml-engineers\"",
                Ops =
                [
                    new("list", "pods", "v1", $"/api/v1/namespaces/{train}/pods?limit=500", train, LatencyMs: 19),
                    new("list", "jobs", "v1", $"/apis/batch/v1/namespaces/{train}/jobs?limit=500", train, ApiGroup: "batch", LatencyMs: 13),
                    new("get", "configmaps", "v1", $"/api/v1/namespaces/{train}/configmaps/train-config", train, "train-config"),
                    new("get", "pods", "v1", $"/api/v1/namespaces/{g.Ns("notebooks")}/pods/jupyter-alice-0/log?container=notebook&tailLines=200",
                        g.Ns("notebooks"), "jupyter-alice-0", Subresource: "log", LatencyMs: 48),
                    new("get", "secrets", "v1", $"/api/v1/namespaces/{serve}/secrets/registry-credentials", serve, "registry-credentials",
                        Code: 403, LatencyMs: 3, Weight: 0.15),
                ],
            });
            _actors.Add(new K8sActor
            {
                Username = g.Person("carol"), Groups = ["platform-admins", "system:authenticated"], SourceIp = g.VpnIp(1), UserAgent = KubectlLinux,
                ActiveProbability = 0.25, FromHour = 9, ToHour = 18,
                Allow = "RBAC: allowed by ClusterRoleBinding \"platform-admins\" of ClusterRole \"cluster-admin\" to Group \"platform-admins\"",
                Ops =
                [
                    new("list", "nodes", "v1", "/api/v1/nodes?limit=500", LatencyMs: 11),
                    new("get", "nodes", "v1", $"/api/v1/nodes/{g.Standby.Name}", Name: g.Standby.Name),
                    new("list", "pods", "v1", "/api/v1/pods?limit=500", LatencyMs: 35),
                    new("patch", "deployments", "v1", $"/apis/apps/v1/namespaces/{serve}/deployments/triton-resnet50?fieldManager=kubectl-edit", serve,
                        "triton-resnet50", ApiGroup: "apps", LatencyMs: 21, Weight: 0.3),
                ],
            });
        }

        public void Emit(long bucketUs, LineBuffer output)
        {
            var hour = (int)HourOfDay(bucketUs);
            foreach (var actor in _actors)
            {
                // The first buckets of an actor are always busy, so its whole repertoire is seen while it warms up.
                if (hour < actor.FromHour || hour >= actor.ToHour || (actor.ActiveBuckets >= 6 && _rng.NextDouble() >= actor.ActiveProbability))
                {
                    continue;
                }

                actor.ActiveBuckets++;
                var count = 1 + (_rng.NextDouble() < 0.2 ? 1 : 0);
                for (var i = 0; i < count; i++)
                {
                    var op = actor.OpCursor < actor.Ops.Length ? actor.Ops[actor.OpCursor++] : Weighted(actor.Ops);
                    // Received and completed inside the bucket, so both stages land in this hour's file.
                    var latencyUs = Math.Max(500, (long)(op.LatencyMs * 1000 * (0.7 + 0.6 * _rng.NextDouble())));
                    var stageUs = bucketUs + latencyUs + _rng.NextInt64(BucketMicros - 2 * SecondMicros - latencyUs);
                    var auditId = Uuid(_rng);
                    var uri = op.Uri.Replace("{rv}", _rng.Next(48_000_000, 49_000_000).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
                    if (_rng.NextDouble() < 0.04)
                    {
                        Write(output, actor, op, auditId, uri, stageUs - latencyUs, stageUs - latencyUs, complete: false);
                    }

                    Write(output, actor, op, auditId, uri, stageUs - latencyUs, stageUs, complete: true);
                }
            }
        }

        private K8sOp Weighted(K8sOp[] ops)
        {
            var total = 0.0;
            foreach (var op in ops)
            {
                total += op.Weight;
            }

            var roll = _rng.NextDouble() * total;
            foreach (var op in ops)
            {
                roll -= op.Weight;
                if (roll < 0)
                {
                    return op;
                }
            }

            return ops[^1];
        }

        private static void Write(LineBuffer output, K8sActor actor, K8sOp op, string auditId, string uri, long receivedUs, long stageUs, bool complete)
        {
            var w = output.BeginJson();
            w.WriteStartObject();
            w.WriteString("kind", "Event");
            w.WriteString("apiVersion", "audit.k8s.io/v1");
            w.WriteString("level", "Metadata");
            w.WriteString("auditID", auditId);
            w.WriteString("stage", complete ? "ResponseComplete" : "RequestReceived");
            w.WriteString("requestURI", uri);
            w.WriteString("verb", op.Verb);
            w.WriteStartObject("user");
            w.WriteString("username", actor.Username);
            w.WriteString("uid", actor.Uid);
            w.WriteStartArray("groups");
            foreach (var group in actor.Groups)
            {
                w.WriteStringValue(group);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("sourceIPs");
            w.WriteStringValue(actor.SourceIp);
            w.WriteEndArray();
            w.WriteString("userAgent", actor.UserAgent);
            w.WriteStartObject("objectRef");
            w.WriteString("resource", op.Resource);
            WriteIfSet(w, "namespace", op.Namespace);
            WriteIfSet(w, "name", op.Name);
            WriteIfSet(w, "apiGroup", op.ApiGroup);
            w.WriteString("apiVersion", op.ApiVersion);
            WriteIfSet(w, "subresource", op.Subresource);
            w.WriteEndObject();
            if (complete)
            {
                w.WriteStartObject("responseStatus");
                w.WriteStartObject("metadata");
                w.WriteEndObject();
                if (op.Code >= 400)
                {
                    w.WriteString("status", "Failure");
                    w.WriteString("message",
                        $"{op.Resource} \"{op.Name}\" is forbidden: User \"{actor.Username}\" cannot {op.Verb} resource \"{op.Resource}\" in API group \"{op.ApiGroup}\" in the namespace \"{op.Namespace}\"");
                    w.WriteString("reason", "Forbidden");
                }

                w.WriteNumber("code", op.Code);
                w.WriteEndObject();
            }

            w.WriteString("requestReceivedTimestamp", IsoMicros(receivedUs));
            w.WriteString("stageTimestamp", IsoMicros(stageUs));
            if (complete)
            {
                w.WriteStartObject("annotations");
                w.WriteString("authorization.k8s.io/decision", op.Code == 403 ? "forbid" : "allow");
                w.WriteString("authorization.k8s.io/reason", op.Code == 403 ? string.Empty : actor.Allow);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            output.EndJson(stageUs);
        }

        private static void WriteIfSet(System.Text.Json.Utf8JsonWriter w, string name, string? value)
        {
            if (value is not null)
            {
                w.WriteString(name, value);
            }
        }
    }
}
