using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Api;

/// <summary>One rejected line in an ingest answer.</summary>
/// <param name="Line">1-based line number in the body.</param>
/// <param name="Reason">Why it was rejected.</param>
public sealed record LineRejection(int Line, string Reason);

/// <summary>The answer to <c>POST /v1/ingest/{format}</c>. Always: lines = accepted + rejected + control.</summary>
public sealed record IngestResponse
{
    /// <summary>Canonical format name.</summary>
    public required string Format { get; init; }

    /// <summary>Lines in the body.</summary>
    public required int Lines { get; init; }

    /// <summary>Records accepted (scored or deliberately filtered).</summary>
    public required int Accepted { get; init; }

    /// <summary>Accepted records not scored on purpose (e.g. k8s audit RequestReceived stages).</summary>
    public required int Filtered { get; init; }

    /// <summary>Records rejected; each is in the dead-letter table.</summary>
    public required int Rejected { get; init; }

    /// <summary>Lines that are not records (blank lines, Zeek headers).</summary>
    public required int ControlLines { get; init; }

    /// <summary>Accepted events no grain owns (flows between addresses the inventory does not know).</summary>
    public required int Unattributed { get; init; }

    /// <summary>The first rejections, with line numbers and reasons.</summary>
    public required IReadOnlyList<LineRejection> Errors { get; init; }

    /// <summary>True when more rejections exist than <see cref="Errors"/> lists.</summary>
    public required bool ErrorsTruncated { get; init; }
}

/// <summary><c>POST /v1/ingest/{format}</c>: parse, admit all-or-nothing, dead-letter the bad lines, answer with counts.</summary>
internal static partial class IngestEndpoints
{
    private const int MaxListedErrors = 100;

    /// <summary>The receiver name of <c>/v1/ingest/{format}</c> in <c>/v1/receivers</c>.</summary>
    private const string Receiver = "http:ingest";

    /// <summary>The 429 for a body that was not taken (Retry-After already set): over the shipper's rate limit, or the
    /// engine's queues are full.</summary>
    private static IResult NotTaken(Receivers.Admission outcome) => outcome == Receivers.Admission.Limited
        ? Results.Json(new ErrorBody("rate_limited", "this shipper is over its rate limit (Ingest:RateLimit); nothing of this body was taken, retry it after Retry-After seconds"),
            Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status429TooManyRequests)
        : Results.Json(new ErrorBody("busy", "the engine's queues are full; nothing of this body was taken, retry it after Retry-After seconds"),
            Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status429TooManyRequests);

    public static void MapIngest(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/ingest/{format}", HandleAsync).RequireAuthorization(Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);

    /// <summary>Rate-limiter policy that bounds bodies decoded at once (each holds its events in memory).</summary>
    public const string ConcurrencyPolicy = "ingest-bodies";

    /// <summary>Appends a decoded batch; access tokens go to the vault (for revoke_token) and never into the runtime.</summary>
    private static void AddWithoutTokens(ReadOnlySpan<EngineEvent> batch, PooledList<EngineEvent> events, Response.TokenVault tokens)
    {
        var start = events.Count;
        events.AddRange(batch);
        var added = events.From(start);
        for (var i = 0; i < added.Length; i++)
        {
            if (added[i].Kind == EventKind.Access && added[i].Access.Token is { Length: > 0 } token)
            {
                var access = added[i].Access;
                if (access.PrincipalSource == PrincipalSource.Field)
                {
                    tokens.Remember(access.Principal, token);
                }

                added[i] = EngineEvent.From(access with { Token = null });
            }
        }
    }

    private static async Task<IResult> HandleAsync(
        string format,
        HttpContext http,
        LineDecoder decoder,
        IGrainRuntime runtime,
        IOptions<IngestOptions> options,
        RuntimeMetrics metrics,
        TimeProvider time,
        Response.TokenVault tokens,
        Receivers.ShipperGate gate,
        CancellationToken ct)
    {
        using var activity = RuntimeMetrics.Activity.StartActivity("ingest");
        activity?.SetTag("anomalyzt.format", format);
        var started = Stopwatch.GetTimestamp();
        var canonical = LineDecoder.Canonical(format);
        if (canonical is null)
        {
            return Results.Json(
                new ErrorBody("unknown_format", $"format '{format}' is not supported; use one of {string.Join(", ", LineDecoder.Formats)}"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status400BadRequest);
        }

        var encoding = http.Request.Headers.ContentEncoding.ToString();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (encoding.Length > 0 && !gzip && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return Results.Json(
                new ErrorBody("unsupported_encoding", $"Content-Encoding '{encoding}' is not supported; send gzip or no encoding"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var events = new PooledList<EngineEvent>();
        var rejected = new List<LineError>();
        DecodeSummary summary;
        try
        {
            var reader = LineDecoder.OpenBody(http.Request.Body, gzip);
            var notAfter = time.GetUtcNow().ToUnixTimeMilliseconds() + (options.Value.MaxFutureSkewSeconds * 1000L);
            summary = await decoder.DecodeAsync(reader, canonical, batch =>
            {
                AddWithoutTokens(batch.Events, events, tokens);
                rejected.AddRange(batch.Rejected);
                return ValueTask.CompletedTask;
            }, 4096, ct, notAfter).ConfigureAwait(false);
        }
        catch (IngestLimitException ex)
        {
            events.Dispose();
            return Results.Json(new ErrorBody(ex.StatusCode == 413 ? "too_large" : "bad_request", ex.Message),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: ex.StatusCode);
        }

        using (events)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var letters = new DeadLetter[rejected.Count];
            for (var i = 0; i < letters.Length; i++)
            {
                letters[i] = new DeadLetter(0, now, "http:" + canonical, rejected[i].LineNumber, rejected[i].Reason, rejected[i].Payload);
            }

            var (outcome, dispatch) = await gate.AdmitAsync(http, runtime, Receiver, canonical, summary.Accepted + summary.Rejected, events.Memory, letters, ct)
                .ConfigureAwait(false);
            if (outcome != Receivers.Admission.Taken)
            {
                return NotTaken(outcome);
            }

            metrics.Ingested(canonical, summary.Accepted, summary.Rejected, Stopwatch.GetElapsedTime(started).TotalSeconds);
            gate.Delivered(http, Receiver, canonical, summary.Accepted, summary.Rejected);
            var listed = new List<LineRejection>(Math.Min(rejected.Count, MaxListedErrors));
            for (var i = 0; i < rejected.Count && i < MaxListedErrors; i++)
            {
                listed.Add(new LineRejection(rejected[i].LineNumber, rejected[i].Reason));
            }

            return Results.Json(new IngestResponse
            {
                Format = canonical,
                Lines = summary.Lines,
                Accepted = summary.Accepted,
                Filtered = summary.Filtered,
                Rejected = summary.Rejected,
                ControlLines = summary.ControlLines,
                Unattributed = dispatch.Unattributed,
                Errors = listed,
                ErrorsTruncated = rejected.Count > MaxListedErrors,
            }, Serialization.AnomalyJsonContext.Default.IngestResponse);
        }
    }
}

/// <summary>A growable list over pooled arrays, for the events of one body.</summary>
internal sealed class PooledList<T> : IDisposable
{
    private T[] _items = ArrayPool<T>.Shared.Rent(256);
    private int _count;

    public ReadOnlySpan<T> Span => _items.AsSpan(0, _count);

    public ReadOnlyMemory<T> Memory => _items.AsMemory(0, _count);

    public int Count => _count;

    /// <summary>The items from <paramref name="start"/> on, to change in place.</summary>
    public Span<T> From(int start) => _items.AsSpan(start, _count - start);

    public void AddRange(ReadOnlySpan<T> items)
    {
        if (_count + items.Length > _items.Length)
        {
            var bigger = ArrayPool<T>.Shared.Rent(Math.Max(_items.Length * 2, _count + items.Length));
            _items.AsSpan(0, _count).CopyTo(bigger);
            Array.Clear(_items, 0, _count);
            ArrayPool<T>.Shared.Return(_items);
            _items = bigger;
        }

        items.CopyTo(_items.AsSpan(_count));
        _count += items.Length;
    }

    public void Dispose()
    {
        Array.Clear(_items, 0, _count); // only the used part holds references
        ArrayPool<T>.Shared.Return(_items);
        _items = [];
        _count = 0;
    }
}
