using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AnomalyZT.Silo.Hosting;
using AnomalyZT.Silo.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Benchmarks;

/// <summary>Events/s through each HTTP receiver of an in-process silo over real loopback HTTP/1.1:
/// <c>dotnet run -c Release --project Tests/Benchmarks -- http-load [seconds per receiver] [clients] [events per body]</c>.
/// Each receiver gets the body its stock shipper sends (Fluent Bit/Vector NDJSON, HEC envelopes, Elasticsearch
/// <c>_bulk</c>, OTLP JSON, CloudTrail lines); a 429 is retried after a short pause and counted. The per-shipper rate
/// limit is off.</summary>
internal static class HttpLoad
{
    private const string Key = "http-load-shipper-key-0123456789";
    private const int Users = 1000;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var clients = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        var perBody = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 500;
        return await LoadSilo.RunAsync("http-load", _ => new Dictionary<string, string?>
        {
            ["Auth:Keys:1:Name"] = "load",
            ["Auth:Keys:1:Role"] = Roles.Shipper,
            ["Auth:Keys:1:Sha256"] = ApiKeyRegistry.Hash(Key),
        }, (app, _) => MeasureAsync(app, seconds, clients, perBody));
    }

    private static async Task<int> MeasureAsync(WebApplication app, double seconds, int clients, int perBody)
    {
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        Console.WriteLine($"http-load: {clients} clients, {perBody} events per body, {seconds:0.#} s per receiver, {Environment.ProcessorCount} cores");
        Console.WriteLine("receiver                     accepted/s   rejected   bodies   429s   body p50 ms");
        var stats = app.Services.GetRequiredService<AnomalyZT.Silo.Receivers.ReceiverStats>();
        foreach (var (_, _, path, type, build) in Receivers())
        {
            // Warm-up: JIT tiers, and every identity and node grain of the run exists before anything is timed.
            await RunOneAsync(http, path, type, build(perBody), TimeSpan.FromSeconds(2), clients);
        }

        foreach (var (name, receiver, path, type, build) in Receivers())
        {
            var body = build(perBody);
            var before = stats.Total(receiver);
            var (bodies, busy, p50) = await RunOneAsync(http, path, type, body, TimeSpan.FromSeconds(seconds), clients);
            var after = stats.Total(receiver);
            Console.WriteLine($"{name,-28} {(after.Accepted - before.Accepted) / seconds,10:N0} {after.Rejected - before.Rejected,10:N0} {bodies,8:N0} {busy,6:N0} {p50,12:0.0}");
        }

        return 0;
    }

    private static async Task<(long Bodies, long Busy, double P50)> RunOneAsync(
        HttpClient http, string path, string type, byte[] body, TimeSpan duration, int clients)
    {
        using var stop = new CancellationTokenSource(duration);
        long bodies = 0, busy = 0;
        var latencies = new List<double>[clients];
        var workers = new Task[clients];
        for (var c = 0; c < clients; c++)
        {
            var mine = latencies[c] = [];
            workers[c] = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
                    var started = Stopwatch.GetTimestamp();
                    using var response = await http.PostAsync(path, content, CancellationToken.None);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests || response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        Interlocked.Increment(ref busy);
                        await Task.Delay(10);
                        continue;
                    }

                    if (!response.IsSuccessStatusCode)
                    {
                        throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }

                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Increment(ref bodies);
                }
            });
        }

        await Task.WhenAll(workers);
        var all = latencies.SelectMany(l => l).Order().ToList();
        return (bodies, busy, all.Count == 0 ? 0 : all[all.Count / 2]);
    }

    private static IEnumerable<(string Name, string Receiver, string Path, string Type, Func<int, byte[]> Build)> Receivers()
    {
        yield return ("/v1/ingest/envoy (NDJSON)", "http:ingest", "v1/ingest/envoy", "application/x-ndjson", n => Lines(n, Envoy));
        yield return ("/services/collector/event", "hec", "services/collector/event", "application/json", n => Lines(n, i => "{\"time\":" + Unix() + ",\"sourcetype\":\"envoy\",\"event\":" + Envoy(i) + "}", separator: ""));
        yield return ("/services/collector/raw", "hec-raw", "services/collector/raw?sourcetype=envoy", "text/plain", n => Lines(n, Envoy));
        yield return ("/_bulk (envoy index)", "bulk", "envoy-access/_bulk", "application/x-ndjson", n => Lines(n, i => "{\"create\":{}}\n" + Envoy(i)));
        yield return ("/v1/logs (OTLP JSON)", "otlp:logs", "v1/logs", "application/json", OtlpJson);
        yield return ("/v1/logs (OTLP protobuf)", "otlp:logs", "v1/logs", "application/x-protobuf", OtlpProtobuf);
        yield return ("/v1/ingest/cloudtrail", "http:ingest", "v1/ingest/cloudtrail", "application/x-ndjson", n => Lines(n, Trail));
    }

    private static string Unix() => DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    private static string Iso() => DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string Envoy(int i) =>
        $$"""{"start_time":"{{Iso()}}","method":"GET","path":"/v1/models/m{{i % 20}}","response_code":200,"bytes_received":120,"bytes_sent":4096,"duration":12,"downstream_remote_address":"10.0.{{i % 250}}.{{i % 200}}:5555","x_forwarded_for":null,"user_agent":"python-requests/2.31","request_id":"r{{i}}","authority":"api","upstream_host":"10.1.0.1:8080","x_forwarded_user":"user{{i % Users}}@corp"}""";

    private static string Trail(int i) =>
        $$$"""{"eventTime":"{{{Iso()}}}","userIdentity":{"arn":"arn:aws:iam::111122223333:user/u{{{i % Users}}}"},"eventName":"GetObject","sourceIPAddress":"203.0.113.{{{i % 250}}}","requestParameters":{"bucketName":"models","key":"m{{{i % 20}}}"},"requestID":"R{{{i}}}"}""";

    private static byte[] OtlpJson(int n)
    {
        var nanos = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L).ToString(CultureInfo.InvariantCulture);
        var records = string.Join(",", Enumerable.Range(0, n).Select(i =>
            $$$"""{"timeUnixNano":"{{{nanos}}}","body":{"stringValue":"GET"},"attributes":[{"key":"user.name","value":{"stringValue":"user{{{i % Users}}}@corp"}},{"key":"url.path","value":{"stringValue":"/v1/models/m{{{i % 20}}}"}},{"key":"http.response.status_code","value":{"intValue":"200"}}]}"""));
        return Encoding.UTF8.GetBytes("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[" + records + "]}]}]}");
    }

    private static byte[] OtlpProtobuf(int n)
    {
        var nanos = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        var scope = new AnomalyZT.Tests.Ingest.DropIn.ProtoBuilder();
        for (var i = 0; i < n; i++)
        {
            scope.Message(2, new AnomalyZT.Tests.Ingest.DropIn.ProtoBuilder()
                .Fixed64(1, nanos)
                .Message(5, new AnomalyZT.Tests.Ingest.DropIn.ProtoBuilder().String(1, "GET"))
                .StringAttribute(6, "user.name", "user" + (i % Users).ToString(CultureInfo.InvariantCulture) + "@corp")
                .StringAttribute(6, "url.path", "/v1/models/m" + (i % 20).ToString(CultureInfo.InvariantCulture))
                .IntAttribute(6, "http.response.status_code", 200));
        }

        return new AnomalyZT.Tests.Ingest.DropIn.ProtoBuilder().Message(1, new AnomalyZT.Tests.Ingest.DropIn.ProtoBuilder().Message(2, scope)).ToArray();
    }

    private static byte[] Lines(int n, Func<int, string> line, string separator = "\n")
    {
        var text = new StringBuilder();
        for (var i = 0; i < n; i++)
        {
            text.Append(line(i)).Append(separator);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
