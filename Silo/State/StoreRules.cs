using System.Data.Common;
using System.Globalization;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Siem;

namespace AnomalyZT.Silo.State;

/// <summary>The checks and bookkeeping every state store applies the same way, whatever its database: limits, checkpoint
/// validation, finding-query cursors and pages, and which audit lines and SIEM records a response commit writes.</summary>
internal static class StoreRules
{
    /// <summary>Most rows one query page may ask for.</summary>
    internal const int MaxLimit = 1_000;

    /// <summary>What a store throws when called before it was opened.</summary>
    internal static InvalidOperationException NotInitialized() =>
        new($"The state store is not open; call {nameof(IStateStore.InitializeAsync)} first.");

    /// <summary>Refuses a page size outside 1 to <see cref="MaxLimit"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The limit is out of range.</exception>
    internal static void CheckLimit(int limit, string paramName)
    {
        if (limit is < 1 or > MaxLimit)
        {
            throw new ArgumentOutOfRangeException(
                paramName,
                limit,
                FormattableString.Invariant($"Limit is {limit}; Limit must be between 1 and {MaxLimit}."));
        }
    }

    /// <summary>Checks a findings query's limit and decodes its cursor: the (bucket start, id) to resume after, or null
    /// for the first page.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The limit is out of range.</exception>
    /// <exception cref="ArgumentException">The cursor is not one a store issued.</exception>
    internal static (long BucketStartMs, string Id)? CheckFindingQuery(FindingQuery query, string paramName)
    {
        ArgumentNullException.ThrowIfNull(query);
        CheckLimit(query.Limit, paramName);
        return query.Cursor is null ? null : FindingCursor.Decode(query.Cursor, paramName);
    }

    /// <summary>Every row <paramref name="reader"/> has left, each read with <paramref name="read"/>.</summary>
    internal static async Task<List<T>> ReadAllAsync<TReader, T>(TReader reader, Func<TReader, T> read, CancellationToken ct, int capacity = 0)
        where TReader : DbDataReader
    {
        var items = new List<T>(capacity);
        while (await reader.ReadAsync(ct))
        {
            items.Add(read(reader));
        }

        return items;
    }

    /// <summary>The action counts of a query whose rows are (state, count).</summary>
    internal static async Task<Dictionary<ResponseActionState, long>> ReadActionCountsAsync(DbDataReader reader, CancellationToken ct)
    {
        var counts = new Dictionary<ResponseActionState, long>();
        while (await reader.ReadAsync(ct))
        {
            counts[(ResponseActionState)reader.GetInt32(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>Reads one page of findings from a query that asked for <paramref name="limit"/> + 1 rows: the extra row
    /// only tells that another page exists, and the page's cursor then resumes after its last item.</summary>
    internal static async Task<FindingPage> ReadFindingPageAsync<TReader>(
        TReader reader, int limit, Func<TReader, Finding> readFinding, CancellationToken ct)
        where TReader : DbDataReader
    {
        var items = new List<Finding>(Math.Min(limit, 64));
        var hasMore = false;
        while (await reader.ReadAsync(ct))
        {
            if (items.Count == limit)
            {
                hasMore = true;
                break;
            }

            items.Add(readFinding(reader));
        }

        var next = hasMore ? FindingCursor.Encode(items[^1].BucketStartMs, items[^1].Id) : null;
        return new FindingPage(items, next);
    }

    /// <summary>The first missing required value in <paramref name="checkpoint"/>, described for the caller, or null.</summary>
    internal static string? FindMissingValue(Checkpoint checkpoint)
    {
        if (checkpoint.Snapshots is null || checkpoint.Findings is null || checkpoint.DeadLetters is null)
        {
            return "Checkpoint.Snapshots, Findings and DeadLetters must not be null; pass an empty list instead.";
        }

        for (var i = 0; i < checkpoint.Snapshots.Count; i++)
        {
            var s = checkpoint.Snapshots[i];
            var member = s is null ? string.Empty : s.Key.Id is null ? "Key.Id" : s.Data is null ? "Data" : null;
            if (member is not null)
            {
                return Missing("Snapshots", i, member);
            }
        }

        for (var i = 0; i < checkpoint.Findings.Count; i++)
        {
            var f = checkpoint.Findings[i];
            var member = f is null ? string.Empty : f.Id is null ? "Id" : f.EntityId is null ? "EntityId"
                : f.Detector is null ? "Detector" : f.Feature is null ? "Feature" : null;
            if (member is not null)
            {
                return Missing("Findings", i, member);
            }
        }

        for (var i = 0; i < checkpoint.DeadLetters.Count; i++)
        {
            var d = checkpoint.DeadLetters[i];
            var member = d is null ? string.Empty : d.Source is null ? "Source" : d.Reason is null ? "Reason"
                : d.Payload is null ? "Payload" : null;
            if (member is not null)
            {
                return Missing("DeadLetters", i, member);
            }
        }

        return null;
    }

    /// <summary>True when the checkpoint writes no snapshot, finding or dead letter.</summary>
    internal static bool IsEmpty(Checkpoint checkpoint) =>
        checkpoint.Snapshots.Count == 0 && checkpoint.Findings.Count == 0 && checkpoint.DeadLetters.Count == 0;

    /// <summary>The audit lines a response commit writes, in order, with the action JSON each is chained over and the
    /// SIEM record it adds (null for a line about no action of the batch). Lines about actions the batch tried to
    /// record but that were stored before (not in <paramref name="inserted"/>) are left out, so a re-run repeats none.</summary>
    internal static List<(AuditEntry Audit, string Json, SiemRecord? Record)> AuditLines(
        ResponseCommit commit, IReadOnlyCollection<string> inserted, long nowMs)
    {
        var byId = commit.Actions.ToDictionary(a => a.Id, StringComparer.Ordinal);
        var lines = new List<(AuditEntry, string, SiemRecord?)>();
        foreach (var audit in commit.Audit)
        {
            if (byId.TryGetValue(audit.ActionId, out var action) && !inserted.Contains(audit.ActionId))
            {
                continue;
            }

            var json = action is null ? "{}" : StoreJson.Serialize(action);
            lines.Add((audit, json, action is null ? null : SiemRecord.From(action, audit.Event, audit.Actor, audit.Detail, nowMs)));
        }

        return lines;
    }

    /// <summary>Every SIEM record a response commit appends, in order: those of its audit lines, then its findings,
    /// then its risk changes.</summary>
    internal static List<SiemRecord> ResponseRecords(
        ResponseCommit commit, IEnumerable<(AuditEntry Audit, string Json, SiemRecord? Record)> lines)
    {
        var records = new List<SiemRecord>();
        foreach (var line in lines)
        {
            if (line.Record is { } record)
            {
                records.Add(record);
            }
        }

        records.AddRange(commit.Findings.Select(SiemRecord.From));
        records.AddRange((commit.RiskChanges ?? []).Select(SiemRecord.From));
        return records;
    }

    private static string Missing(string list, int index, string member) => member.Length == 0
        ? string.Create(CultureInfo.InvariantCulture, $"Checkpoint.{list}[{index}] is null; nothing was written.")
        : string.Create(CultureInfo.InvariantCulture, $"Checkpoint.{list}[{index}].{member} is null; it is required, so nothing was written.");
}
