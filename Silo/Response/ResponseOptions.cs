using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Silo.Response;

/// <summary>Host settings of the response side (section <c>Response</c>): the connectors and the executor. What to do
/// and when is policy, in <c>detectors.yaml</c>.</summary>
public sealed class ResponseOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Response";

    /// <summary>Connectors by name. When empty, one log-only connector named <c>log</c> exists.</summary>
    public Dictionary<string, ConnectorOptions> Connectors { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Delivery settings.</summary>
    public ExecutorOptions Executor { get; set; } = new();

    /// <summary>How often the responder looks for new findings when nothing woke it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>How the outbox is delivered.</summary>
public sealed class ExecutorOptions
{
    /// <summary>False records actions but delivers none (a read-only silo, or maintenance); they wait in the outbox.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Attempts before an action is marked failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>First retry delay; doubles per attempt, with jitter.</summary>
    public TimeSpan BaseBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest retry delay.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the executor looks for due work when nothing woke it (TTL expiries, back-offs).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries in flight at once.</summary>
    public int Concurrency { get; set; } = 4;
}
