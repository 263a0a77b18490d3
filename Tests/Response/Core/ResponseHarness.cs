using System.Collections.Concurrent;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Response.Connectors;
using AnomalyZT.Silo.State;
using AnomalyZT.Tests.Response.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyZT.Tests.Response.Core;

/// <summary>A connector that keeps a set of disabled users, like a provider would, and records every call.
/// Idempotent the way the real ones are: a repeat answers AlreadyInState.</summary>
internal sealed class RecordingConnector(string name) : IIdpConnector
{
    private readonly ConcurrentDictionary<string, bool> _disabled = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    public ConcurrentQueue<ConnectorRequest> Calls { get; } = new();

    /// <summary>Answers to give before behaving normally (e.g. Retry twice).</summary>
    public ConcurrentQueue<DeliveryResult> Scripted { get; } = new();

    public bool IsDisabled(string subject) => _disabled.ContainsKey(subject);

    public int Applied(string subject) => Calls.Count(c => c.Subject == subject && !c.Restore);

    public bool Supports(ResponseActionKind kind, bool restore) => !restore || kind == ResponseActionKind.Disable;

    public Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct)
    {
        Calls.Enqueue(request);
        if (Scripted.TryDequeue(out var scripted))
        {
            return Task.FromResult(scripted);
        }

        if (request.Kind != ResponseActionKind.Disable)
        {
            return Task.FromResult(new DeliveryResult(DeliveryStatus.Done, "ok"));
        }

        var changed = request.Restore ? _disabled.TryRemove(request.Subject, out _) : _disabled.TryAdd(request.Subject, true);
        return Task.FromResult(new DeliveryResult(changed ? DeliveryStatus.Done : DeliveryStatus.AlreadyInState, changed ? "changed" : "already"));
    }
}

/// <summary>A store, responder and executor on a temp SQLite file, with recording connectors "idp" and "idp2".</summary>
internal sealed class ResponseHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    private ResponseHarness(string directory, string yaml, ManualTime clock, IIdpConnector idp, RecordingConnector idp2)
    {
        Directory = directory;
        Yaml = yaml;
        Clock = clock;
        First = idp;
        Idp2 = idp2;
    }

    public string Directory { get; }

    public string Yaml { get; }

    public ManualTime Clock { get; }

    /// <summary>The connector named "idp" (a <see cref="RecordingConnector"/> unless the test passed another).</summary>
    public IIdpConnector First { get; }

    public RecordingConnector Idp => (RecordingConnector)First;

    public RecordingConnector Idp2 { get; }

    public SqliteStateStore Store { get; private set; } = null!;

    public Responder Responder { get; private set; } = null!;

    public ActionExecutor Executor { get; private set; } = null!;

    public ActionCommands Commands { get; private set; } = null!;

    public ResponsePolicySource Policy { get; private set; } = null!;

    public static async Task<ResponseHarness> StartAsync(string responseYaml, string? directory = null, ManualTime? clock = null,
        IIdpConnector? idp = null, RecordingConnector? idp2 = null, int maxAttempts = 3)
    {
        var h = new ResponseHarness(
            directory ?? Path.Combine(Path.GetTempPath(), "anomalyzt-response-" + Guid.NewGuid().ToString("N")),
            responseYaml, clock ?? new ManualTime(Start), idp ?? new RecordingConnector("idp"), idp2 ?? new RecordingConnector("idp2"));
        await h.OpenAsync(maxAttempts);
        return h;
    }

    /// <summary>Opens everything anew on the same file, as a restarted silo would (the old instances are dropped).</summary>
    public async Task RestartAsync(int maxAttempts = 3)
    {
        await CloseAsync();
        await OpenAsync(maxAttempts);
    }

    public async Task CommitFindingsAsync(params Finding[] findings) =>
        await Store.CommitAsync(new Checkpoint([], findings, []), CancellationToken.None);

    public async Task<List<ResponseAction>> ActionsAsync(ResponseActionState? state = null, string? identity = null) =>
        [.. await Store.QueryActionsAsync(new ActionQuery(state, identity, 0, string.Empty, 1000), CancellationToken.None)];

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    /// <summary>A finding about an identity; its id is unique per (id, feature, bucket).</summary>
    public static Finding IdentityFinding(string identity, string feature, int minute, Severity severity, string detector = "robust_level", string[]? examples = null) => new()
    {
        Id = Finding.ComputeId(EntityKind.Identity, identity, detector, feature, Start.AddMinutes(minute).ToUnixTimeMilliseconds()),
        EntityKind = EntityKind.Identity,
        EntityId = identity,
        Detector = detector,
        Feature = feature,
        BucketStartMs = Start.AddMinutes(minute).ToUnixTimeMilliseconds(),
        BucketSeconds = 600,
        Observed = 100,
        Expected = 1,
        Lower = 0,
        Upper = 5,
        Score = 20,
        PValue = 1e-9,
        Severity = severity,
        ConfigVersion = "test",
        BaselineCount = 50,
        Explanation = "test finding",
        Examples = examples ?? [],
    };

    private async Task OpenAsync(int maxAttempts)
    {
        Store = new SqliteStateStore(new SqliteStoreOptions { DataDirectory = Directory }, Clock);
        await Store.InitializeAsync(CancellationToken.None);
        var registry = new ConnectorRegistry([First, Idp2]);
        Policy = new ResponsePolicySource(DetectionConfigLoader.Parse(Yaml, "test.yaml").Response, registry);
        var metrics = new ResponseMetrics(null);
        Responder = new Responder(Store, Policy, registry, Clock, metrics, NullLogger<Responder>.Instance);
        Executor = new ActionExecutor(Store, registry,
            new ExecutorOptions { MaxAttempts = maxAttempts, BaseBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(4) },
            Clock, metrics, NullLogger<ActionExecutor>.Instance);
        Commands = new ActionCommands(Store, Executor, Clock);
    }

    private async Task CloseAsync()
    {
        Responder?.Dispose();
        Executor?.Dispose();
        if (Store is not null)
        {
            await Store.DisposeAsync();
        }
    }
}
