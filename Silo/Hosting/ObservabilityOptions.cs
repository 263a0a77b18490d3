namespace AnomalyZT.Silo.Hosting;

/// <summary>OpenTelemetry export (section <c>Observability</c>). Off unless an endpoint is set.</summary>
public sealed class ObservabilityOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Observability";

    /// <summary>OTLP collector endpoint, e.g. <c>http://127.0.0.1:4317</c>; empty disables export.</summary>
    public string OtlpEndpoint { get; set; } = string.Empty;

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; set; } = "grpc";
}
