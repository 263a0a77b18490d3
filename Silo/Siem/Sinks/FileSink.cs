using System.Text;

namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>Appends records as lines to a file, flushed to disk before a batch counts as delivered; rotates at a size
/// (<c>path</c> → <c>path.1</c> → … → <c>path.N</c>, the oldest dropped).</summary>
public sealed class FileSink(string name, string path, long maxBytes, int maxFiles) : IRecordSink
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private FileStream? _stream;

    /// <inheritdoc />
    public string Name { get; } = name;

    /// <inheritdoc />
    public async Task<SinkResult> SendAsync(IReadOnlyList<EncodedRecord> batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        try
        {
            var stream = Open();
            for (var i = 0; i < batch.Count; i++)
            {
                await stream.WriteAsync(batch[i].Payload, ct).ConfigureAwait(false);
                await stream.WriteAsync(NewLine, ct).ConfigureAwait(false);
            }

            await stream.FlushAsync(ct).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
            if (stream.Length >= maxBytes)
            {
                Rotate();
            }

            return new SinkResult(batch.Count, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await CloseAsync().ConfigureAwait(false);
            return new SinkResult(0, $"cannot write '{path}': {ex.Message}");
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => CloseAsync();

    private FileStream Open()
    {
        if (_stream is null)
        {
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }

            _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
        }

        return _stream;
    }

    private void Rotate()
    {
        _stream?.Dispose();
        _stream = null;
        for (var i = maxFiles - 1; i >= 1; i--)
        {
            var from = Rotated(i);
            if (File.Exists(from))
            {
                File.Move(from, Rotated(i + 1), overwrite: true);
            }
        }

        File.Move(path, Rotated(1), overwrite: true);
    }

    private string Rotated(int n) => path + "." + n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async ValueTask CloseAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
            _stream = null;
        }
    }
}

/// <summary>Posts batches as NDJSON to a URL, signed like the response webhook (<c>X-AnomalyZT-Signature</c> over
/// <c>{timestamp}.{body}</c>, <c>X-AnomalyZT-Timestamp</c>), with the first and last record ids in
/// <c>Idempotency-Key</c>.</summary>
public sealed class WebhookSink(string name, Uri url, string hmacKeyReference, HttpClient http, TimeSpan timeout, TimeProvider time) : IRecordSink
{
    /// <inheritdoc />
    public string Name { get; } = name;

    /// <inheritdoc />
    public async Task<SinkResult> SendAsync(IReadOnlyList<EncodedRecord> batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var body = Join(batch);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            var key = Response.Connectors.SecretReference.Resolve(hmacKeyReference, $"Siem:Sinks:{Name}:HmacKey");
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
            request.Headers.Add(Response.Connectors.WebhookConnector.TimestampHeader, timestamp);
            request.Headers.Add(Response.Connectors.WebhookConnector.SignatureHeader, Response.Connectors.WebhookConnector.Sign(key, timestamp, body));
            request.Headers.Add(Response.Connectors.WebhookConnector.IdempotencyHeader, batch[0].Id + ".." + batch[^1].Id);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            using var response = await http.SendAsync(request, limit.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? new SinkResult(batch.Count, null)
                : new SinkResult(0, $"HTTP {(int)response.StatusCode} from {url.GetLeftPart(UriPartial.Path)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            return new SinkResult(0, ex.GetType().Name + ": " + ex.Message);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The records as NDJSON bytes.</summary>
    internal static byte[] Join(IReadOnlyList<EncodedRecord> batch)
    {
        var size = batch.Sum(r => r.Payload.Length + 1);
        var body = new byte[size];
        var at = 0;
        foreach (var r in batch)
        {
            r.Payload.Span.CopyTo(body.AsSpan(at));
            at += r.Payload.Length;
            body[at++] = (byte)'\n';
        }

        return body;
    }
}

/// <summary>Splunk HEC: <c>POST {url}/services/collector/event</c> with <c>Authorization: Splunk {token}</c>, events
/// concatenated. With <c>UseAck</c> the request carries <c>X-Splunk-Request-Channel</c> and the batch counts as
/// delivered only once <c>/services/collector/ack</c> says its ackId was indexed.</summary>
public sealed class HecSink(string name, Uri url, string tokenReference, bool useAck, HttpClient http, TimeSpan timeout) : IRecordSink
{
    private readonly string _channel = Guid.NewGuid().ToString();

    /// <inheritdoc />
    public string Name { get; } = name;

    /// <inheritdoc />
    public async Task<SinkResult> SendAsync(IReadOnlyList<EncodedRecord> batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        try
        {
            var token = Response.Connectors.SecretReference.Resolve(tokenReference, $"Siem:Sinks:{Name}:Token");
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            using var request = Request(HttpMethod.Post, "services/collector/event", token, WebhookSink.Join(batch));
            using var response = await http.SendAsync(request, limit.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(limit.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return new SinkResult(0, $"HTTP {(int)response.StatusCode} from HEC: {Trim(text)}");
            }

            if (!useAck)
            {
                return new SinkResult(batch.Count, null);
            }

            using var doc = System.Text.Json.JsonDocument.Parse(text);
            if (!doc.RootElement.TryGetProperty("ackId", out var ackId))
            {
                return new SinkResult(0, "HEC answered without an ackId although UseAck is on (is indexer acknowledgement enabled for the token?)");
            }

            return await WaitForAckAsync(token, ackId.GetInt64(), limit.Token).ConfigureAwait(false)
                ? new SinkResult(batch.Count, null)
                : new SinkResult(0, "HEC did not acknowledge indexing in time");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or InvalidOperationException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
        {
            return new SinkResult(0, ex.GetType().Name + ": " + ex.Message);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<bool> WaitForAckAsync(string token, long ackId, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"acks\":[{ackId}]}}"));
        for (var delay = 100; !ct.IsCancellationRequested; delay = Math.Min(delay * 2, 2000))
        {
            using var request = Request(HttpMethod.Post, "services/collector/ack", token, body);
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
                if (doc.RootElement.TryGetProperty("acks", out var acks)
                    && acks.TryGetProperty(ackId.ToString(System.Globalization.CultureInfo.InvariantCulture), out var done) && done.ValueKind == System.Text.Json.JsonValueKind.True)
                {
                    return true;
                }
            }

            await Task.Delay(delay, ct).ConfigureAwait(false);
        }

        return false;
    }

    private HttpRequestMessage Request(HttpMethod method, string path, string token, byte[] body)
    {
        var request = new HttpRequestMessage(method, new Uri(url, path)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Authorization", "Splunk " + token);
        if (useAck)
        {
            request.Headers.Add("X-Splunk-Request-Channel", _channel);
        }

        return request;
    }

    private static string Trim(string text) => text.Length <= 200 ? text : text[..200];
}
