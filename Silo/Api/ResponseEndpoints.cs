using System.Globalization;
using System.Security.Claims;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Api;

/// <summary>A page of actions.</summary>
/// <param name="Items">Actions, oldest first.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null at the end.</param>
public sealed record ActionPage(IReadOnlyList<ResponseAction> Items, string? NextCursor);

/// <summary>One finding's share of a risk.</summary>
/// <param name="FindingId">The finding.</param>
/// <param name="Detector">Its detector.</param>
/// <param name="Feature">Its feature.</param>
/// <param name="Severity">Its severity.</param>
/// <param name="At">When it counted from (end of its bucket, event time).</param>
/// <param name="Points">Its points then.</param>
/// <param name="Current">Its points now, after decay.</param>
public sealed record RiskShareBody(string FindingId, string Detector, string Feature, Severity Severity, DateTimeOffset At, double Points, double Current);

/// <summary>An identity's risk, explained.</summary>
/// <param name="Identity">The identity.</param>
/// <param name="Risk">Risk now (at <paramref name="AsOf"/>), 0..max.</param>
/// <param name="AsOf">Event time the risk is computed at: its newest contribution.</param>
/// <param name="HalfLifeMinutes">Decay half-life.</param>
/// <param name="IdentityClass"><c>human</c> or <c>service</c>.</param>
/// <param name="Allowlisted">Why it is never acted on, or null.</param>
/// <param name="Contributions">The findings behind it, strongest first.</param>
public sealed record RiskBody(string Identity, double Risk, DateTimeOffset AsOf, double HalfLifeMinutes, string IdentityClass, string? Allowlisted, IReadOnlyList<RiskShareBody> Contributions);

/// <summary>Response endpoints: actions (read, approve, reject, undo), identity risk, the audit log.</summary>
internal static class ResponseEndpoints
{
    /// <summary>Most actions in one page (one more is read to know whether a next page exists).</summary>
    private const int MaxActionPage = 500;

    public static void MapResponse(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/actions", ListAsync).RequireAuthorization(Policies.Read);
        app.MapGet("/v1/actions/{id}", GetAsync).RequireAuthorization(Policies.Read);
        app.MapPost("/v1/actions/{id}/{decision}", DecideAsync).RequireAuthorization(Policies.Respond);
        app.MapGet("/v1/identities/{**path}", RiskAsync).RequireAuthorization(Policies.Read);
        app.MapGet("/v1/audit", AuditAsync).RequireAuthorization(Policies.Read);
    }

    private static async Task<IResult> ListAsync(IResponseStore store, string? state, string? identity, string? cursor, int? limit, CancellationToken ct)
    {
        ResponseActionState? filter = null;
        if (state is not null)
        {
            if (!Enum.TryParse<ResponseActionState>(state, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(state, out _))
            {
                return Bad($"state is '{state}'; allowed: {string.Join(", ", Enum.GetNames<ResponseActionState>())}");
            }

            filter = parsed;
        }

        var n = limit ?? 100;
        if (n is < 1 or > MaxActionPage)
        {
            return Bad(FormattableString.Invariant($"limit is {n}; it must be from 1 to {MaxActionPage}"));
        }

        long after = 0;
        var afterId = string.Empty;
        if (cursor is not null)
        {
            var sep = cursor.IndexOf('_', StringComparison.Ordinal);
            if (sep <= 0 || !long.TryParse(cursor[..sep], NumberStyles.None, CultureInfo.InvariantCulture, out after))
            {
                return Bad("cursor is not one this API issued; pass nextCursor from the previous page");
            }

            afterId = cursor[(sep + 1)..];
        }

        var items = await store.QueryActionsAsync(new ActionQuery(filter, identity, after, afterId, n + 1), ct);
        var page = items.Take(n).ToList();
        var next = items.Count > n ? FormattableString.Invariant($"{page[^1].CreatedAtMs}_{page[^1].Id}") : null;
        return Results.Json(new ActionPage(page, next), Serialization.AnomalyJsonContext.Default.ActionPage);
    }

    private static async Task<IResult> GetAsync(IResponseStore store, string id, CancellationToken ct) =>
        await store.GetActionAsync(id, ct) is { } action
            ? Results.Json(action with { Token = null }, Serialization.AnomalyJsonContext.Default.ResponseAction)
            : NotFound($"no action has id '{id}'");

    private static async Task<IResult> DecideAsync(ActionCommands commands, ClaimsPrincipal user, string id, string decision, CancellationToken ct)
    {
        var actor = user.Identity?.Name ?? "unknown";
        var task = decision switch
        {
            "approve" => commands.ApproveAsync(id, actor, ct),
            "reject" => commands.RejectAsync(id, actor, ct),
            "undo" => commands.UndoAsync(id, actor, ct),
            _ => null,
        };
        if (task is null)
        {
            return NotFound($"'{decision}' is not a decision; POST /v1/actions/{{id}}/approve, /reject or /undo");
        }

        var (outcome, action, message) = await task;
        return outcome switch
        {
            CommandOutcome.Applied => Results.Json(action!, Serialization.AnomalyJsonContext.Default.ResponseAction),
            CommandOutcome.NotFound => NotFound(message),
            _ => Results.Json(new ErrorBody("conflict", message), Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status409Conflict),
        };
    }

    private static async Task<IResult> RiskAsync(Responder responder, ResponsePolicySource policy, string path, CancellationToken ct)
    {
        const string suffix = "/risk";
        if (!path.EndsWith(suffix, StringComparison.Ordinal) || path.Length == suffix.Length)
        {
            return NotFound("use GET /v1/identities/{id}/risk");
        }

        var id = path[..^suffix.Length];
        var p = policy.Current;
        var risk = await responder.RiskOfAsync(id, ct);
        if (risk is null)
        {
            return NotFound($"identity '{id}' has no findings that carry risk");
        }

        var shares = risk.Explain(risk.AsOfMs, p.Risk).Select(s => new RiskShareBody(
            s.Contribution.FindingId, s.Contribution.Detector, s.Contribution.Feature, s.Contribution.Severity,
            DateTimeOffset.FromUnixTimeMilliseconds(s.Contribution.AtMs), s.Contribution.Points, Math.Round(s.Current, 3))).ToList();
        var body = new RiskBody(id, Math.Round(risk.ValueAt(risk.AsOfMs, p.Risk), 3), DateTimeOffset.FromUnixTimeMilliseconds(risk.AsOfMs),
            p.Risk.HalfLifeMinutes, p.ClassOf(id), p.AllowlistedBy(id), shares);
        return Results.Json(body, Serialization.AnomalyJsonContext.Default.RiskBody);
    }

    private static async Task<IResult> AuditAsync(IResponseStore store, long? after, int? limit, CancellationToken ct)
    {
        var n = limit ?? 100;
        if (n is < 1 or > 1000)
        {
            return Bad(FormattableString.Invariant($"limit is {n}; it must be from 1 to 1000"));
        }

        var items = await store.AuditAfterAsync(after ?? 0, n, ct);
        return Results.Json(items.ToList(), Serialization.AnomalyJsonContext.Default.ListAuditRecord);
    }

    private static IResult Bad(string message) =>
        Results.Json(new ErrorBody("bad_request", message), Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status400BadRequest);

    private static IResult NotFound(string message) =>
        Results.Json(new ErrorBody("not_found", message), Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status404NotFound);
}
