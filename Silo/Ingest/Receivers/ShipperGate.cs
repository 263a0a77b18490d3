using Microsoft.AspNetCore.Http;

namespace AnomalyZT.Silo.Receivers;

/// <summary>What every HTTP receiver does per request: name the shipper (the API key's name), hold it to its rate limit,
/// and count the outcome by receiver, shipper and format.</summary>
public sealed class ShipperGate(ReceiverStats stats, ShipperRateLimiter limiter)
{
    /// <summary>The counters.</summary>
    public ReceiverStats Stats => stats;

    /// <summary>The shipper of an authenticated request: the API key's configured name.</summary>
    public static string ShipperOf(HttpContext http) => http.User.Identity?.Name is { Length: > 0 } name ? name : "anonymous";

    /// <summary>Takes <paramref name="records"/> from the shipper's bucket. When it is over its limit, counts them as
    /// limited, sets <c>Retry-After</c> and returns false: the caller answers 429 (or its protocol's busy answer) and
    /// takes nothing of the body.</summary>
    public bool TryAdmit(HttpContext http, string receiver, string format, int records)
    {
        var shipper = ShipperOf(http);
        if (limiter.TryAcquire(shipper, records, out var retryAfter))
        {
            return true;
        }

        stats.Count(receiver, shipper, format, 0, limited: records);
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return false;
    }

    /// <summary>Counts a body the runtime refused (queues full): the shipper is told to retry.</summary>
    public void Refused(HttpContext http, string receiver, string format, int records) =>
        stats.Count(receiver, ShipperOf(http), format, 0, refused: records);

    /// <summary>Counts what a request delivered.</summary>
    public void Delivered(HttpContext http, string receiver, string format, long accepted, long rejected, long ignored = 0) =>
        stats.Count(receiver, ShipperOf(http), format, accepted, rejected, ignored: ignored);
}
