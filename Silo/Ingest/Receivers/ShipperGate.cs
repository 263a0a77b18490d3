using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;
using Microsoft.AspNetCore.Http;

namespace AnomalyZT.Silo.Receivers;

/// <summary>What became of a body offered to <see cref="ShipperGate.AdmitAsync"/>.</summary>
public enum Admission
{
    /// <summary>Dispatched: every event and dead letter was taken.</summary>
    Taken,

    /// <summary>Nothing taken: the shipper is over its rate limit (Retry-After is set).</summary>
    Limited,

    /// <summary>Nothing taken: the engine's queues are full (Retry-After is set).</summary>
    Busy,
}

/// <summary>What every HTTP receiver does per request: name the shipper (the API key's name), hold it to its rate limit,
/// dispatch all or nothing, and count the outcome by receiver, shipper and format.</summary>
public sealed class ShipperGate(ReceiverStats stats, ShipperRateLimiter limiter)
{
    /// <summary>The shipper of an authenticated request: the API key's configured name.</summary>
    public static string ShipperOf(HttpContext http) => http.User.Identity?.Name is { Length: > 0 } name ? name : "anonymous";

    /// <summary>Holds the shipper to its limit for <paramref name="records"/> records, then dispatches the body's events
    /// and dead letters all or nothing. Limited and refused records are counted here (with <c>Retry-After</c> set); the
    /// caller counts what was taken with <see cref="Delivered"/>, by format.</summary>
    public async ValueTask<(Admission Outcome, DispatchResult Dispatch)> AdmitAsync(
        HttpContext http, IGrainRuntime runtime, string receiver, string format, int records,
        ReadOnlyMemory<EngineEvent> events, IReadOnlyList<DeadLetter> letters, CancellationToken ct)
    {
        var shipper = ShipperOf(http);
        if (!limiter.TryAcquire(shipper, records, out var retryAfter))
        {
            stats.Count(receiver, shipper, format, 0, limited: records);
            SetRetryAfter(http, retryAfter);
            return (Admission.Limited, default);
        }

        var dispatch = await runtime.DispatchAsync(events, letters, ct).ConfigureAwait(false);
        if (!dispatch.Admitted)
        {
            stats.Count(receiver, shipper, format, 0, refused: records);
            SetRetryAfter(http, dispatch.RetryAfter);
            return (Admission.Busy, dispatch);
        }

        return (Admission.Taken, dispatch);
    }

    /// <summary>Counts what a request delivered.</summary>
    public void Delivered(HttpContext http, string receiver, string format, long accepted, long rejected) =>
        stats.Count(receiver, ShipperOf(http), format, accepted, rejected);

    private static void SetRetryAfter(HttpContext http, TimeSpan wait) =>
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
