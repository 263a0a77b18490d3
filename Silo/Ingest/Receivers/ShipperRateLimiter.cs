using System.Collections.Concurrent;

namespace AnomalyZT.Silo.Receivers;

/// <summary>Per-shipper rate limits (section <c>Ingest:RateLimit</c>): a token bucket per shipper name, refilled at
/// <see cref="EventsPerSecond"/> up to <see cref="Burst"/>. A batch is let through while the bucket is not empty and
/// may take it below zero (a 16 MiB body is one request, not a violation); the next batch waits until the debt is
/// repaid. Zero means no limit.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Ingest:RateLimit";

    /// <summary>Records per second each shipper may send (default 200,000; 0 = unlimited).</summary>
    public double EventsPerSecond { get; set; } = 200_000;

    /// <summary>Records a shipper may send at once after being idle (default 400,000).</summary>
    public double Burst { get; set; } = 400_000;

    /// <summary>Per-shipper overrides by shipper name (the API key's name, certificate name or source name).</summary>
    public Dictionary<string, ShipperLimit> Shippers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>One message per invalid setting, in the form "X is V; X must be …".</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        Check(SectionName, EventsPerSecond, Burst, errors);
        foreach (var (name, limit) in Shippers)
        {
            Check($"{SectionName}:Shippers:{name}", limit.EventsPerSecond, limit.Burst, errors);
        }

        return errors;
    }

    private static void Check(string key, double rate, double burst, List<string> errors)
    {
        if (!double.IsFinite(rate) || rate < 0)
        {
            errors.Add($"{key}:EventsPerSecond is {rate}; it must be 0 (unlimited) or a positive number");
        }

        if (rate > 0 && (!double.IsFinite(burst) || burst < 1))
        {
            errors.Add($"{key}:Burst is {burst}; it must be at least 1 when EventsPerSecond is set");
        }
    }
}

/// <summary>One shipper's limit.</summary>
public sealed class ShipperLimit
{
    /// <summary>Records per second (0 = unlimited).</summary>
    public double EventsPerSecond { get; set; }

    /// <summary>Bucket size in records.</summary>
    public double Burst { get; set; }
}

/// <summary>The buckets of <see cref="RateLimitOptions"/>, one per shipper name, on an injected clock.</summary>
public sealed class ShipperRateLimiter(RateLimitOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Takes <paramref name="records"/> from the shipper's bucket. False when the bucket is empty (or in debt);
    /// <paramref name="retryAfter"/> then says when it will have tokens again.</summary>
    public bool TryAcquire(string shipper, int records, out TimeSpan retryAfter)
    {
        var (rate, burst) = options.Shippers.TryGetValue(shipper, out var own) ? (own.EventsPerSecond, own.Burst) : (options.EventsPerSecond, options.Burst);
        retryAfter = TimeSpan.Zero;
        if (rate <= 0 || records <= 0)
        {
            return true;
        }

        var bucket = _buckets.GetOrAdd(shipper, static (_, b) => new Bucket(b.burst, b.now), (burst, now: time.GetTimestamp()));
        lock (bucket)
        {
            var now = time.GetTimestamp();
            var elapsed = time.GetElapsedTime(bucket.Stamp, now).TotalSeconds;
            bucket.Stamp = now;
            bucket.Tokens = Math.Min(burst, bucket.Tokens + (elapsed * rate));
            if (bucket.Tokens <= 0)
            {
                retryAfter = TimeSpan.FromSeconds(Math.Max(0.001, (1 - bucket.Tokens) / rate));
                return false;
            }

            bucket.Tokens -= records;
            return true;
        }
    }

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens = tokens;
        public long Stamp = stamp;
    }
}
