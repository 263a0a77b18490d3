using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>A generic signed webhook: every action is a <c>POST {BaseUrl}</c> the receiver can verify.</summary>
/// <remarks>
/// <para>Body (UTF-8 JSON): <c>{"id":"…","kind":"Disable","subject":"…","restore":false,"timestamp":1767225600}</c>;
/// <c>kind</c> is a <see cref="ResponseActionKind"/> name, <c>subject</c> the mapped user (see
/// <see cref="ConnectorOptions.SubjectPattern"/>), <c>timestamp</c> Unix seconds. For
/// <see cref="ResponseActionKind.RevokeToken"/> the body adds <c>"tokenSha256"</c>, the lower-case hex SHA-256 of the token:
/// the token itself is never sent.</para>
/// <para>Headers: <c>X-AnomalyZT-Timestamp: {timestamp}</c>, <c>X-AnomalyZT-Signature: sha256={hex}</c> where hex is the
/// lower-case HMAC-SHA256, keyed with the UTF-8 bytes of <see cref="ConnectorOptions.HmacKey"/>, of the UTF-8 bytes of
/// <c>"{timestamp}.{body}"</c>, and <c>Idempotency-Key: {id}</c> (the same for every retry of an action; a restore is a
/// different delivery and carries <c>{id}.restore</c>). Receivers check with <see cref="Verify(string, string, string, ReadOnlySpan{byte}, DateTimeOffset, TimeSpan?)"/>.</para>
/// <para>Any 2xx is <see cref="DeliveryStatus.Done"/>; 408, 425, 429 and 5xx retry (after <c>Retry-After</c>); other
/// answers are permanent.</para>
/// </remarks>
public sealed class WebhookConnector : HttpIdpConnector
{
    /// <summary>Header with the signature, <c>sha256={hex}</c>.</summary>
    public const string SignatureHeader = "X-AnomalyZT-Signature";

    /// <summary>Header with the signing time, Unix seconds.</summary>
    public const string TimestampHeader = "X-AnomalyZT-Timestamp";

    /// <summary>Header with the action id.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>Default largest accepted difference between a signature's timestamp and the receiver's clock.</summary>
    public static readonly TimeSpan DefaultMaxSkew = TimeSpan.FromMinutes(5);

    private const string SignaturePrefix = "sha256=";

    private readonly Uri _target;
    private readonly string _keyName;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">Its configured name.</param>
    /// <param name="options">Its options (BaseUrl and HmacKey required).</param>
    /// <param name="http">The shared client; per-request headers only.</param>
    /// <param name="time">Clock for the signature timestamp.</param>
    public WebhookConnector(string name, ConnectorOptions options, HttpClient http, TimeProvider time)
        : base(ConnectorTypes.Webhook, name, options, http, time)
    {
        _target = new Uri(options.BaseUrl.Trim());
        _keyName = $"Response:Connectors:{name}:HmacKey";
    }

    /// <inheritdoc/>
    /// <remarks>Every kind, applied and restored: the receiver decides what each means.</remarks>
    public override bool Supports(ResponseActionKind kind, bool restore) => Enum.IsDefined(kind);

    /// <summary>The lower-case hex SHA-256 of a token's UTF-8 bytes: what the webhook sends instead of the token.</summary>
    public static string Fingerprint(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>The signature header value for <paramref name="body"/> signed at <paramref name="timestamp"/>:
    /// <c>sha256=</c> and the lower-case hex HMAC-SHA256 of <c>"{timestamp}.{body}"</c>.</summary>
    public static string Sign(string key, string timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(timestamp);
        return SignaturePrefix + Convert.ToHexStringLower(Mac(key, timestamp, body));
    }

    /// <summary>Checks a delivery as a receiver: the signature must be the HMAC-SHA256 of <c>"{timestamp}.{body}"</c> under
    /// <paramref name="key"/> (compared in constant time), and the timestamp within <paramref name="maxSkew"/> (default
    /// <see cref="DefaultMaxSkew"/>) of <paramref name="now"/>, which rejects replays of old deliveries.</summary>
    /// <param name="key">The shared HMAC key (its UTF-8 bytes are the MAC key).</param>
    /// <param name="timestampHeader">The <c>X-AnomalyZT-Timestamp</c> value.</param>
    /// <param name="signatureHeader">The <c>X-AnomalyZT-Signature</c> value.</param>
    /// <param name="body">The raw request body, exactly as received.</param>
    /// <param name="now">The receiver's clock.</param>
    /// <param name="maxSkew">Largest accepted clock difference.</param>
    /// <returns>True when authentic and fresh.</returns>
    public static bool Verify(string key, string timestampHeader, string signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan? maxSkew = null)
    {
        if (string.IsNullOrEmpty(key) || string.IsNullOrEmpty(timestampHeader) || string.IsNullOrEmpty(signatureHeader)
            || !long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > 253402300799
            || !signatureHeader.StartsWith(SignaturePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var skew = maxSkew ?? DefaultMaxSkew;
        if ((now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > skew)
        {
            return false;
        }

        var hex = signatureHeader.AsSpan(SignaturePrefix.Length).Trim();
        if (hex.Length != 64)
        {
            return false;
        }

        Span<byte> given = stackalloc byte[32];
        if (Convert.FromHexString(hex, given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(given, Mac(key, timestampHeader, body));
    }

    /// <summary><see cref="Verify(string, string, string, ReadOnlySpan{byte}, DateTimeOffset, TimeSpan?)"/> for a body
    /// received as text (its UTF-8 bytes are checked).</summary>
    public static bool Verify(string key, string timestampHeader, string signatureHeader, string body, DateTimeOffset now, TimeSpan? maxSkew = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Verify(key, timestampHeader, signatureHeader, Encoding.UTF8.GetBytes(body), now, maxSkew);
    }

    private static byte[] Mac(string key, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), message);
    }

    /// <inheritdoc/>
    private protected override DeliveryResult Unsupported(ConnectorRequest request) =>
        new(DeliveryStatus.Permanent, $"webhook connector '{Name}' does not know kind {(int)request.Kind}");

    /// <inheritdoc/>
    private protected override DeliveryResult? Refuse(ConnectorRequest request, string subject) =>
        request.Kind == ResponseActionKind.RevokeToken && string.IsNullOrEmpty(request.Token)
            ? new DeliveryResult(DeliveryStatus.Permanent, "webhook: RevokeToken without a token to fingerprint")
            : null;

    /// <inheritdoc/>
    private protected override async Task<DeliveryResult> DeliverAsync(ConnectorRequest request, string subject, CancellationToken ct)
    {
        var key = SecretReference.Resolve(Options.HmacKey, _keyName);
        if (key.Length == 0)
        {
            return new DeliveryResult(DeliveryStatus.Permanent, _keyName + " is empty");
        }

        var seconds = Time.GetUtcNow().ToUnixTimeSeconds();
        var timestamp = seconds.ToString(CultureInfo.InvariantCulture);
        var body = ConnectorHttp.JsonObject(w =>
        {
            w.WriteString("id", request.ActionId);
            w.WriteString("kind", request.Kind.ToString());
            w.WriteString("subject", subject);
            w.WriteBoolean("restore", request.Restore);
            w.WriteNumber("timestamp", seconds);
            if (request.Kind == ResponseActionKind.RevokeToken && request.Token is { } token)
            {
                w.WriteString("tokenSha256", Fingerprint(token));
            }
        });

        var message = new HttpRequestMessage(HttpMethod.Post, _target) { Content = ConnectorHttp.JsonContent(body) };
        message.Headers.Add(TimestampHeader, timestamp);
        message.Headers.Add(SignatureHeader, Sign(key, timestamp, body));
        message.Headers.Add(IdempotencyHeader, request.Restore ? request.ActionId + ".restore" : request.ActionId);
        var answer = await ConnectorHttp.SendAsync(Http, message, Time, ct);
        return answer.IsSuccess
            ? new DeliveryResult(DeliveryStatus.Done, FormattableString.Invariant($"webhook: HTTP {(int)answer.Status}"))
            : ConnectorHttp.Result(answer, "webhook", [key, request.Token]);
    }
}
