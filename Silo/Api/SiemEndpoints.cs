using System.Globalization;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.Siem;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Api;

/// <summary>A page of findings in commit order, for SIEMs that poll.</summary>
/// <param name="Items">Findings in the order they were committed.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> to continue; it is returned even on the last page, so a poller keeps
/// it and asks again later.</param>
public sealed record FindingStreamPage(IReadOnlyList<Finding> Items, string NextCursor);

/// <summary>Pull and health endpoints of the SIEM side.</summary>
internal static class SiemEndpoints
{
    public static void MapSiem(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/findings", FindingsAsync).RequireAuthorization(Policies.Read);
        app.MapGet("/v1/sinks", (SiemService siem) => Results.Json(siem.Health.ToList(), Serialization.AnomalyJsonContext.Default.ListSinkHealth))
            .RequireAuthorization(Policies.Read);
        app.MapGet("/v1/receivers", (Receivers.ReceiverStats stats) => Results.Json(stats.Snapshot().ToList(), Serialization.AnomalyJsonContext.Default.ListReceiverCount))
            .RequireAuthorization(Policies.Read);
    }

    private static async Task<IResult> FindingsAsync(IResponseStore store, string? cursor, int? limit, CancellationToken ct)
    {
        var n = limit ?? 100;
        if (n is < 1 or > 1000)
        {
            return Bad(FormattableString.Invariant($"limit is {n}; it must be from 1 to 1000"));
        }

        long after = 0;
        if (cursor is not null && (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 0))
        {
            return Bad("cursor is not one this API issued; pass nextCursor from the previous page (or omit it to start at the beginning)");
        }

        var items = await store.FindingsAfterAsync(after, n, ct);
        var next = items.Count > 0 ? items[^1].Seq : after;
        return Results.Json(new FindingStreamPage([.. items.Select(i => i.Finding)], next.ToString(CultureInfo.InvariantCulture)),
            Serialization.AnomalyJsonContext.Default.FindingStreamPage);
    }

    private static IResult Bad(string message) =>
        Results.Json(new ErrorBody("bad_request", message), Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status400BadRequest);
}
