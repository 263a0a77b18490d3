using System.Globalization;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Benchmarks;

/// <summary>Seeded synthetic inputs shared by the benchmarks.</summary>
internal static class Synthetic
{
    public static readonly DateTimeOffset Start = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    public static byte[] EnvoyBody(int lines, int identities, int seed = 1)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder(lines * 420);
        for (var i = 0; i < lines; i++)
        {
            var at = Start.AddMilliseconds(i * 250L);
            var who = rng.Next(identities);
            sb.Append(CultureInfo.InvariantCulture, $$"""{"start_time":"{{at:yyyy-MM-ddTHH:mm:ss.fffZ}}","route_name":"default","method":"GET","path":"/v1/datasets/imagenet/shards/{{rng.Next(2000):D4}}?x=1","protocol":"HTTP/2","response_code":200,"response_flags":"-","response_code_details":"via_upstream","connection_termination_details":null,"bytes_received":0,"bytes_sent":{{rng.Next(1_000_000)}},"duration":{{rng.Next(200)}},"upstream_service_time":"10","x_forwarded_for":null,"user_agent":"grpc-go/1.64.0","request_id":"{{Guid.NewGuid()}}","authority":"feature-store.data.svc.cluster.local","upstream_host":"10.0.9.10:8080","upstream_cluster":"outbound|8080||feature-store.data.svc.cluster.local","upstream_local_address":"10.0.1.5:43122","downstream_local_address":"10.0.9.10:8080","downstream_remote_address":"10.0.1.{{who % 250}}:5{{who % 10000:D4}}","requested_server_name":"outbound_.8080_._.feature-store.data.svc.cluster.local","upstream_transport_failure_reason":null,"downstream_peer_uri_san":"spiffe://cluster.local/ns/ml/sa/sa-{{who}}"}""").Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static RoutedEvent[] AccessEvents(int count, int identities, int seed = 2)
    {
        var rng = new Random(seed);
        var names = new string[identities];
        for (var i = 0; i < identities; i++)
        {
            names[i] = "spiffe://cluster.local/ns/ml/sa/sa-" + i.ToString(CultureInfo.InvariantCulture);
        }

        var resources = new string[64];
        for (var i = 0; i < resources.Length; i++)
        {
            resources[i] = "feature-store/v1/datasets/imagenet/shards/" + i.ToString(CultureInfo.InvariantCulture);
        }

        var events = new RoutedEvent[count];
        var t0 = Start.ToUnixTimeMilliseconds();
        for (var i = 0; i < count; i++)
        {
            var who = names[rng.Next(identities)];
            var e = new AccessEvent(t0 + i * 250L, who, PrincipalSource.Field, "10.0.1.7", "grpc-go/1.64.0", "GET",
                resources[rng.Next(resources.Length)], Outcome.Success, 200, 0, rng.Next(1_000_000), null, null);
            events[i] = new RoutedEvent(new EntityKey(EntityKind.Identity, who), EventRole.Access, EngineEvent.From(e));
        }

        return events;
    }
}
