using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>One HTTP answer, read and closed: status, body (capped) and the provider's retry hint.</summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Body">The body as text, at most <see cref="ConnectorHttp.MaxBody"/> bytes of it.</param>
/// <param name="RetryAfter">How long the provider asks to wait (<c>Retry-After</c>, or Okta's <c>X-Rate-Limit-Reset</c>).</param>
internal readonly record struct HttpAnswer(HttpStatusCode Status, string Body, TimeSpan? RetryAfter)
{
    /// <summary>True for 2xx.</summary>
    public bool IsSuccess => (int)Status is >= 200 and < 300;
}

/// <summary>What the HTTP connectors share: sending with a capped body read, mapping answers and exceptions to
/// <see cref="DeliveryResult"/> with secrets scrubbed out (<see cref="SecretScrubber"/>), and the per-call timeout.</summary>
internal static class ConnectorHttp
{
    /// <summary>Most bytes of a provider's body read.</summary>
    public const int MaxBody = 1 << 20;

    /// <summary>Sends <paramref name="request"/> and reads the answer; the request is disposed.</summary>
    public static async Task<HttpAnswer> SendAsync(HttpClient http, HttpRequestMessage request, TimeProvider time, CancellationToken ct)
    {
        using (request)
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var body = await ReadBodyAsync(response.Content, ct);
            return new HttpAnswer(response.StatusCode, body, RetryAfter(response, time));
        }
    }

    /// <summary>The result for a non-2xx (or any) answer: <see cref="ConnectorSupport.FromHttp"/> on the body scrubbed of
    /// <paramref name="secrets"/>, prefixed by <paramref name="what"/>, with the provider's retry hint appended to retries.</summary>
    public static DeliveryResult Result(HttpAnswer answer, string what, ReadOnlySpan<string?> secrets)
    {
        // Every non-empty secret is masked here, however short.
        var result = ConnectorSupport.FromHttp(answer.Status, SecretScrubber.Scrub(answer.Body, minLength: 1, secrets));
        var detail = what + ": " + result.Detail;
        if (result.Status == DeliveryStatus.Retry && answer.RetryAfter is { } wait)
        {
            detail += FormattableString.Invariant($" (retry after {Math.Ceiling(wait.TotalSeconds):0} s)");
        }

        return result with { Detail = detail };
    }

    /// <summary>Runs one delivery under <paramref name="timeout"/>: network errors, timeouts and unreadable answers
    /// become <see cref="DeliveryStatus.Retry"/>, unresolvable secrets <see cref="DeliveryStatus.Permanent"/>; only the
    /// caller's cancellation escapes.</summary>
    public static async Task<DeliveryResult> RunAsync(TimeSpan timeout, Func<CancellationToken, Task<DeliveryResult>> body, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            return await body(cts.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeliveryResult(DeliveryStatus.Retry, FormattableString.Invariant($"timed out after {timeout.TotalSeconds:0.###} s"));
        }
        catch (HttpRequestException ex)
        {
            return ConnectorSupport.FromException(ex);
        }
        catch (IOException ex)
        {
            return ConnectorSupport.FromException(ex);
        }
        catch (JsonException ex)
        {
            // The message can quote the offending text; keep only where it broke.
            return new DeliveryResult(DeliveryStatus.Retry, "unreadable answer from the provider: " + ex.GetType().Name
                + FormattableString.Invariant($" at byte {ex.BytePositionInLine ?? 0}"));
        }
        catch (InvalidOperationException ex)
        {
            // SecretReference: names the key and the variable or file, never the secret; HttpClient misuse.
            return new DeliveryResult(DeliveryStatus.Permanent, ConnectorSupport.Truncate(ex.Message));
        }
    }

    /// <summary>Runs one call of the SCIM or OAuth revocation connector under <paramref name="timeout"/> and scrubs
    /// <paramref name="secrets"/> out of its result: a timeout is <see cref="DeliveryStatus.Retry"/> (<c>{what} timed out
    /// after …</c>), any other exception <see cref="ConnectorSupport.FromException"/>; only the caller's cancellation
    /// escapes.</summary>
    public static async Task<DeliveryResult> RunScrubbedAsync(
        string what, TimeSpan timeout, string?[] secrets, Func<CancellationToken, Task<DeliveryResult>> call, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            return SecretScrubber.Scrub(await call(cts.Token).ConfigureAwait(false), secrets);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(DeliveryStatus.Retry, FormattableString.Invariant($"{what} timed out after {timeout.TotalSeconds:0.###} s"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return SecretScrubber.Scrub(ConnectorSupport.FromException(ex), secrets);
        }
    }

    /// <summary>A JSON object body as UTF-8 bytes, written by <paramref name="write"/> between the braces.</summary>
    public static byte[] JsonObject(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>JSON content with <c>Content-Type: application/json</c> (no charset parameter, as the providers document).</summary>
    public static ByteArrayContent JsonContent(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary><paramref name="baseUrl"/> without trailing slashes.</summary>
    public static string TrimBase(string baseUrl) => baseUrl.Trim().TrimEnd('/');

    /// <summary>How long the provider asks to wait: <c>Retry-After</c> (seconds or a date), else Okta's
    /// <c>X-Rate-Limit-Reset</c> (UTC epoch seconds); null when neither is there.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        var now = time.GetUtcNow();
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
            }

            if (retryAfter.Date is { } date)
            {
                return date > now ? date - now : TimeSpan.Zero;
            }
        }

        if (response.Headers.TryGetValues("X-Rate-Limit-Reset", out var values)
            && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch))
        {
            var reset = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(epoch, 0, 253402300799));
            return reset > now ? reset - now : TimeSpan.Zero;
        }

        return null;
    }

    private static async Task<string> ReadBodyAsync(HttpContent content, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var collected = new MemoryStream();
            int read;
            while (collected.Length < MaxBody && (read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, MaxBody - collected.Length)), ct)) > 0)
            {
                collected.Write(buffer, 0, read);
            }

            return Encoding.UTF8.GetString(collected.GetBuffer(), 0, (int)collected.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
