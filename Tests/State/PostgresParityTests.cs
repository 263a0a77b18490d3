using System.Text;
using System.Text.Json;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Response.Connectors;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Silo.State;
using AnomalyZT.Silo.State.Postgres;
using AnomalyZT.Tests.Response.Contracts;
using AnomalyZT.Tests.Response.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyZT.Tests.State;

/// <summary>One scripted history run on SQLite and on PostgreSQL with the same clock, through the real responder and
/// executor: every observable output — finding pages and cursors, positions, records, actions, the audit chain down
/// to its hashes, cursors and dead letters — must be byte-for-byte the same.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresParityTests(PostgresFixture pg) : IAsyncDisposable
{
    private const string Policy = """
        response:
          dry_run: false
          risk: { half_life_minutes: 60 }
          breaker: { max_actions: 3, window_minutes: 10, open_minutes: 30 }
          rules:
            - name: disable-humans
              risk_at_least: 50
              identity_class: human
              action: disable
              ttl_minutes: 60
              connectors: [idp]
        """;

    private static readonly DateTimeOffset Start = ResponseHarness.Start;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "anomalyzt-parity-" + Guid.NewGuid().ToString("N"));
    private readonly List<IStateStore> _stores = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await StoreTestData.DisposeAllAsync(_stores);
        StoreTestData.DeleteDirectory(_directory);
    }

    [Fact]
    public async Task ScriptedHistory_SqliteAndPostgres_ProduceIdenticalOutputs()
    {
        var sqlite = await RunAsync(clock => new SqliteStateStore(new SqliteStoreOptions { DataDirectory = _directory, FileName = "p.db" }, clock));
        var postgres = await RunAsync(clock => new PostgresStateStore(pg.Options(), clock));

        TestContext.Current.TestOutputHelper?.WriteLine(sqlite);
        Assert.Contains("Event = delivered", sqlite, StringComparison.Ordinal);
        Assert.Contains("Event = restored", sqlite, StringComparison.Ordinal);
        var sqliteLines = sqlite.Split('\n');
        var postgresLines = postgres.Split('\n');
        for (var i = 0; i < Math.Min(sqliteLines.Length, postgresLines.Length); i++)
        {
            Assert.True(sqliteLines[i] == postgresLines[i], $"line {i + 1} differs:\nsqlite:   {sqliteLines[i]}\npostgres: {postgresLines[i]}");
        }

        Assert.Equal(sqliteLines.Length, postgresLines.Length);
    }

    /// <summary>Runs the script on a fresh store and returns a dump of everything it can be asked.</summary>
    private async Task<string> RunAsync(Func<TimeProvider, IStateStore> create)
    {
        var clock = new ManualTime(Start);
        var store = create(clock);
        _stores.Add(store);
        await store.InitializeAsync(Ct);
        var responses = (IResponseStore)store;
        var idp = new RecordingConnector("idp");
        var registry = new ConnectorRegistry([idp]);
        var policy = new ResponsePolicySource(DetectionConfigLoader.Parse(Policy, "parity.yaml").Response, registry);
        var metrics = new ResponseMetrics(null);
        using var responder = new Responder(responses, policy, registry, clock, metrics, NullLogger<Responder>.Instance);
        using var executor = new ActionExecutor(responses, registry,
            new ExecutorOptions { MaxAttempts = 3, BaseBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(4), Concurrency = 1 },
            clock, metrics, NullLogger<ActionExecutor>.Instance);

        // Findings for five people, shuffled, some twice; snapshots and dead letters alongside.
        var findings = new List<Finding>();
        foreach (var who in new[] { "alice@corp", "bob@corp", "Carol@corp", "dave@corp", "erin@corp" })
        {
            findings.Add(ResponseHarness.IdentityFinding(who, "failures", 0, Severity.High));
            findings.Add(ResponseHarness.IdentityFinding(who, "requests", 1, Severity.High));
        }

        findings.Add(ResponseHarness.IdentityFinding("frank@corp", "failures", 2, Severity.Low));
        var shuffled = findings.ToArray();
        new Random(7).Shuffle(shuffled);
        await store.CommitAsync(new Checkpoint(
            [new GrainSnapshot(new EntityKey(EntityKind.Identity, "alice@corp"), 2, 1, [1, 2], Start.ToUnixTimeMilliseconds())],
            shuffled[..6], [new DeadLetter(0, Start.ToUnixTimeMilliseconds(), "http:envoy", 4, "bad json", [0, 1])]), Ct);
        await store.CommitAsync(new Checkpoint([], shuffled[3..], []), Ct);

        await responder.RunOnceAsync(Ct);
        clock.Advance(TimeSpan.FromSeconds(5));
        await executor.RunOnceAsync(Ct);
        clock.Advance(TimeSpan.FromMinutes(61));
        await executor.RunOnceAsync(Ct);
        await store.CommitAsync(new Checkpoint([], [ResponseHarness.IdentityFinding("alice@corp", "bytes_out", 70, Severity.Critical)], []), Ct);
        await responder.RunOnceAsync(Ct);
        await executor.RunOnceAsync(Ct);

        return await DumpAsync(store);
    }

    private static async Task<string> DumpAsync(IStateStore store)
    {
        var responses = (IResponseStore)store;
        var records = (IRecordStore)store;
        var dump = new StringBuilder();
        string? cursor = null;
        do
        {
            var page = await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, cursor, 4), Ct);
            dump.Append("page ").AppendJoin(',', page.Items.Select(f => f.Id)).Append(" next ").Append(page.NextCursor).Append('\n');
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        foreach (var f in await responses.FindingsAfterAsync(0, 1000, Ct))
        {
            dump.Append("finding ").Append(f.Seq).Append(' ').Append(JsonSerializer.Serialize(f.Finding, AnomalyJsonContext.Default.Finding)).Append('\n');
        }

        // Record positions only have to rise: SQLite's AUTOINCREMENT spends a number on a duplicate it ignores,
        // PostgreSQL's are dense. So the dump has each record's rank, and the latest position is checked apart.
        var stream = await records.RecordsAfterAsync(0, 1000, Ct);
        Assert.True(stream.Zip(stream.Skip(1)).All(p => p.First.Seq < p.Second.Seq), "record positions rise");
        Assert.Equal(stream[^1].Seq, await records.LatestRecordSeqAsync(Ct));
        for (var i = 0; i < stream.Count; i++)
        {
            dump.Append("record #").Append(i + 1).Append(' ').Append(JsonSerializer.Serialize(stream[i].Record, AnomalyJsonContext.Default.SiemRecord)).Append('\n');
        }

        foreach (var a in await responses.QueryActionsAsync(new ActionQuery(null, null, 0, string.Empty, 1000), Ct))
        {
            dump.Append("action ").Append(JsonSerializer.Serialize(a, AnomalyJsonContext.Default.ResponseAction)).Append('\n');
        }

        var audit = await responses.AuditAfterAsync(0, 1000, Ct);
        Assert.Null(AuditChain.FirstBroken(audit));
        foreach (var line in audit)
        {
            dump.Append("audit ").Append(line.ToString()).Append('\n');
        }

        foreach (var (state, count) in (await responses.CountActionsAsync(Ct)).OrderBy(c => c.Key))
        {
            dump.Append("count ").Append(state).Append('=').Append(count).Append('\n');
        }

        foreach (var a in await responses.DueActionsAsync(Start.AddDays(1).ToUnixTimeMilliseconds(), 1000, Ct))
        {
            dump.Append("due ").Append(a.Id).Append('\n');
        }

        var risk = await responses.LoadRiskAsync("alice@corp", Ct);
        dump.Append("risk ").Append(risk?.AsOfMs).Append(' ').Append(risk?.Json).Append('\n');
        dump.Append("cursor ").Append(await responses.CursorAsync(Responder.CursorName, Ct)).Append('\n');
        foreach (var letter in await store.QueryDeadLettersAsync(0, 100, Ct))
        {
            dump.Append("dead ").Append(letter.Id).Append(' ').Append(letter.Source).Append(' ').Append(Convert.ToHexString(letter.Payload)).Append('\n');
        }

        foreach (var s in await store.LoadSnapshotsAsync(2, Ct))
        {
            dump.Append("snapshot ").Append(s.Key).Append(' ').Append(Convert.ToHexString(s.Data)).Append('\n');
        }

        return dump.ToString();
    }
}
