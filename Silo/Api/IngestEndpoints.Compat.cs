namespace AnomalyZT.Silo.Api;

/// <summary>The handshakes stock outputs make before they send: the Elasticsearch root (<c>HEAD /</c> and
/// <c>GET /</c> with <c>X-Elastic-Product</c>, which Logstash's <c>elasticsearch</c> output and Vector's
/// <c>elasticsearch</c> sink read for the version), <c>GET /_license</c> (Logstash's license check) and HEC's health
/// endpoint (Vector's <c>splunk_hec_logs</c> healthcheck). Each needs a shipper key like the paths it guards.</summary>
internal static partial class IngestEndpoints
{
    /// <summary>The Elasticsearch version the bulk drop-in answers as (the bulk API it implements is that of 8.x).</summary>
    private const string ElasticVersion = "8.11.0";

    public static void MapShipperHandshakes(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/", ["GET", "HEAD"], (HttpContext http) =>
            {
                http.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
                return Results.Text(
                    "{\"name\":\"anomalyzt\",\"cluster_name\":\"anomalyzt\",\"version\":{\"number\":\"" + ElasticVersion
                    + "\",\"build_flavor\":\"default\",\"lucene_version\":\"9.8.0\",\"minimum_wire_compatibility_version\":\"7.17.0\",\"minimum_index_compatibility_version\":\"7.0.0\"},\"tagline\":\"AnomalyZT _bulk drop-in (not a search engine)\"}",
                    "application/json", System.Text.Encoding.UTF8);
            })
            .RequireAuthorization(Security.Policies.Ingest);
        app.MapGet("/_license", (HttpContext http) =>
            {
                http.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
                return Results.Text("{\"license\":{\"status\":\"active\",\"type\":\"basic\"}}", "application/json", System.Text.Encoding.UTF8);
            })
            .RequireAuthorization(Security.Policies.Ingest);
        app.MapGet("/services/collector/health", HecHealth).RequireAuthorization(Security.Policies.Ingest);
        app.MapGet("/services/collector/health/1.0", HecHealth).RequireAuthorization(Security.Policies.Ingest);
    }

    private static IResult HecHealth(Runtime.IGrainRuntime runtime) =>
        runtime.IsRunning
            ? Results.Text("{\"text\":\"HEC is healthy\",\"code\":17}", "application/json", System.Text.Encoding.UTF8)
            : Results.Text("{\"text\":\"HEC is unhealthy, queues are full\",\"code\":18}", "application/json", System.Text.Encoding.UTF8, StatusCodes.Status503ServiceUnavailable);
}
