using System.Globalization;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Api;

/// <summary>A page of alerts.</summary>
/// <param name="Items">Findings, oldest bucket first.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null at the end.</param>
public sealed record AlertPage(IReadOnlyList<Finding> Items, string? NextCursor);

/// <summary>An entity: what its grain holds now and its latest findings.</summary>
/// <param name="Entity">The grain's features, baselines and warm-up.</param>
/// <param name="RecentFindings">Its newest findings (up to 20).</param>
public sealed record EntityResponse(EntityView Entity, IReadOnlyList<Finding> RecentFindings);

/// <summary>A dead letter as served (payload as UTF-8 text).</summary>
/// <param name="Id">Store id.</param>
/// <param name="ReceivedAt">When it was rejected.</param>
/// <param name="Source">Where from: <c>http:envoy</c>, <c>late:identity/x</c>.</param>
/// <param name="Line">Line number in its body (0 when not from a body).</param>
/// <param name="Reason">Why.</param>
/// <param name="Payload">The line (truncated to 4 KiB) or the event.</param>
public sealed record DeadLetterItem(long Id, DateTimeOffset ReceivedAt, string Source, int Line, string Reason, string Payload);

/// <summary>Health answer.</summary>
/// <param name="Status"><c>ok</c> or what is wrong.</param>
public sealed record HealthBody(string Status);

/// <summary>Read endpoints: alerts, entities, dead letters; liveness and readiness.</summary>
internal static class QueryEndpoints
{
    public static void MapQueries(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Json(new HealthBody("ok"), Serialization.AnomalyJsonContext.Default.HealthBody)).AllowAnonymous();
        app.MapGet("/readyz", (IGrainRuntime runtime) => runtime.IsRunning
            ? Results.Json(new HealthBody("ok"), Serialization.AnomalyJsonContext.Default.HealthBody)
            : Results.Json(new HealthBody("starting or stopping"), Serialization.AnomalyJsonContext.Default.HealthBody, statusCode: 503)).AllowAnonymous();
        app.MapGet("/v1/alerts", GetAlertsAsync).RequireAuthorization(Policies.Read);
        app.MapGet("/v1/entities/{kind}/{**id}", GetEntityAsync).RequireAuthorization(Policies.Read);
        app.MapGet("/v1/dead-letters", GetDeadLettersAsync).RequireAuthorization(Policies.Read);
        app.MapPost("/v1/runtime/close-all", async (IGrainRuntime runtime, CancellationToken ct) =>
        {
            // End of a replayed input: every partition closes its open buckets and checkpoints (admin only).
            await runtime.CloseAllAsync(ct);
            return Results.Json(new HealthBody("ok"), Serialization.AnomalyJsonContext.Default.HealthBody);
        });
        app.MapGet("/v1/config", (Hosting.DetectionConfigWatcher watcher) =>
            Results.Json(watcher.Status, Serialization.AnomalyJsonContext.Default.DetectionConfigStatus)).RequireAuthorization(Policies.Read);
    }

    private static async Task<IResult> GetAlertsAsync(
        IStateStore store, string? entity, string? kind, string? id, string? detector, string? since, string? cursor, int? limit, CancellationToken ct)
    {
        EntityKind? entityKind = null;
        string? entityId = id;
        if (entity is not null)
        {
            var slash = entity.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || !EntityKey.TryParseKind(entity[..slash], out var k))
            {
                return Bad($"entity is '{entity}'; it must look like identity/<principal> or node/<name>");
            }

            entityKind = k;
            entityId = entity[(slash + 1)..];
        }
        else if (kind is not null)
        {
            if (!EntityKey.TryParseKind(kind, out var k))
            {
                return Bad($"kind is '{kind}'; it must be identity or node");
            }

            entityKind = k;
        }

        long? sinceMs = null;
        if (since is not null)
        {
            if (long.TryParse(since, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
            {
                sinceMs = ms;
            }
            else if (DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            {
                sinceMs = t.ToUnixTimeMilliseconds();
            }
            else
            {
                return Bad($"since is '{since}'; it must be an RFC 3339 time or Unix milliseconds");
            }
        }

        var pageSize = limit ?? 100;
        if (pageSize is < 1 or > 1000)
        {
            return Bad($"limit is {pageSize}; it must be from 1 to 1000");
        }

        try
        {
            var page = await store.QueryFindingsAsync(new FindingQuery(entityKind, entityId, detector, sinceMs, cursor, pageSize), ct).ConfigureAwait(false);
            return Results.Json(new AlertPage(page.Items, page.NextCursor), Serialization.AnomalyJsonContext.Default.AlertPage);
        }
        catch (ArgumentException ex)
        {
            return Bad(ex.Message);
        }
    }

    private static async Task<IResult> GetEntityAsync(string kind, string id, IGrainRuntime runtime, IStateStore store, CancellationToken ct)
    {
        if (!EntityKey.TryParseKind(kind, out var k))
        {
            return Bad($"kind is '{kind}'; it must be identity or node");
        }

        // Principals such as SPIFFE ids contain slashes: accept them raw or percent-encoded.
        id = Uri.UnescapeDataString(id);
        EntityView? view;
        try
        {
            view = await runtime.DescribeAsync(new EntityKey(k, id), ct).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            return Results.Json(new ErrorBody("unavailable", ex.Message), Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (view is null)
        {
            return Results.Json(new ErrorBody("not_found", $"no {kind} '{id}' has been seen"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status404NotFound);
        }

        var recent = await store.RecentFindingsAsync(new EntityKey(k, id), 20, ct).ConfigureAwait(false);
        return Results.Json(new EntityResponse(view, recent), Serialization.AnomalyJsonContext.Default.EntityResponse);
    }

    private static async Task<IResult> GetDeadLettersAsync(IStateStore store, long? after, int? limit, CancellationToken ct)
    {
        var pageSize = limit ?? 100;
        if (pageSize is < 1 or > 1000)
        {
            return Bad($"limit is {pageSize}; it must be from 1 to 1000");
        }

        var items = await store.QueryDeadLettersAsync(after ?? 0, pageSize, ct).ConfigureAwait(false);
        var result = new DeadLetterItem[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var d = items[i];
            result[i] = new DeadLetterItem(d.Id, DateTimeOffset.FromUnixTimeMilliseconds(d.ReceivedAtMs), d.Source, d.LineNumber, d.Reason,
                System.Text.Encoding.UTF8.GetString(d.Payload));
        }

        return Results.Json(result, Serialization.AnomalyJsonContext.Default.DeadLetterItemArray);
    }

    private static IResult Bad(string message) =>
        Results.Json(new ErrorBody("bad_request", message), Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status400BadRequest);
}
