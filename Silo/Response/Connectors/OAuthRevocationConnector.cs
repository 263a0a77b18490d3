using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>OAuth 2.0 token revocation (RFC 7009): posts the token the events carried to the authorization server's
/// revocation endpoint (<see cref="ConnectorOptions.BaseUrl"/>), authenticating as the client
/// <see cref="ConnectorOptions.ClientId"/> with HTTP Basic.</summary>
/// <remarks>Only <see cref="ResponseActionKind.RevokeToken"/> is supported, with no restore: a revoked token stays
/// revoked. The server answers 200 for a token it revoked and also for one that was already invalid (RFC 7009 §2.2),
/// so a repeat is <see cref="DeliveryStatus.Done"/>. Neither the token nor the client secret ever appears in a
/// <see cref="DeliveryResult.Detail"/>.</remarks>
public sealed class OAuthRevocationConnector : IIdpConnector
{
    private readonly ConnectorOptions _options;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">The configured name (key under <c>Response:Connectors</c>).</param>
    /// <param name="options">Its settings: <see cref="ConnectorOptions.BaseUrl"/> (the revocation endpoint),
    /// <see cref="ConnectorOptions.ClientId"/>, <see cref="ConnectorOptions.ClientSecret"/>,
    /// <see cref="ConnectorOptions.Timeout"/>.</param>
    /// <param name="http">The client to send with; its own timeout should be at least <see cref="ConnectorOptions.Timeout"/>.</param>
    /// <exception cref="InvalidOperationException">The endpoint is not an absolute http(s) URL, or no client id is set.</exception>
    public OAuthRevocationConnector(string name, ConnectorOptions options, HttpClient http)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        var endpoint = ConnectorSupport.HttpBaseUrl(name, options.BaseUrl, "the token revocation endpoint (RFC 7009)");
        if (string.IsNullOrEmpty(options.ClientId))
        {
            throw new InvalidOperationException($"Response:Connectors:{name}:ClientId must be set: the revocation endpoint authenticates the client");
        }

        Name = name;
        _options = options;
        _http = http;
        _endpoint = endpoint;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    /// <remarks>Only <see cref="ResponseActionKind.RevokeToken"/>, never a restore.</remarks>
    public bool Supports(ResponseActionKind kind, bool restore) => kind == ResponseActionKind.RevokeToken && !restore;

    /// <inheritdoc />
    public async Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Supports(request.Kind, request.Restore))
        {
            return new(DeliveryStatus.Permanent, request.Restore
                ? $"OAuth revocation connector '{Name}' cannot restore: a revoked token stays revoked"
                : $"OAuth revocation connector '{Name}' cannot {request.Kind}; it supports RevokeToken only");
        }

        if (string.IsNullOrEmpty(request.Token))
        {
            return new(DeliveryStatus.Permanent, "no token to revoke: the action carries none");
        }

        if (ConnectorSupport.ResolveSecret(Name, "ClientSecret", _options.ClientSecret, required: false, out var secret) is { } missing)
        {
            return missing;
        }

        var token = request.Token;
        return await ConnectorHttp.RunScrubbedAsync(
            "token revocation", _options.Timeout, [token, secret, BasicCredentials(_options.ClientId, secret)], t => RevokeAsync(token, secret, t), ct)
            .ConfigureAwait(false);
    }

    /// <summary>The value of an HTTP Basic <c>Authorization</c> header for a client (RFC 6749 §2.3.1): the client id
    /// and secret each encoded with application/x-www-form-urlencoded, joined by a colon, in Base64.</summary>
    internal static string BasicCredentials(string clientId, string clientSecret) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(FormEncode(clientId) + ":" + FormEncode(clientSecret)));

    /// <summary><paramref name="value"/> encoded as application/x-www-form-urlencoded: UTF-8, unreserved characters
    /// kept, space as <c>+</c>, everything else percent-encoded.</summary>
    internal static string FormEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);

    private async Task<DeliveryResult> RevokeAsync(string token, string secret, CancellationToken ct)
    {
        var basic = BasicCredentials(_options.ClientId, secret);
        var message = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = new FormUrlEncodedContent(
            [
                new KeyValuePair<string, string>("token", token),
                new KeyValuePair<string, string>("token_type_hint", "access_token"),
            ]),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var answer = await ConnectorHttp.SendAsync(_http, message, TimeProvider.System, ct).ConfigureAwait(false);
        if (answer.Status == HttpStatusCode.OK)
        {
            // RFC 7009 §2.2: 200 both when the token was revoked and when it was already invalid.
            return new(DeliveryStatus.Done, "token revoked (HTTP 200; also the answer for a token that was already invalid)");
        }

        // Scrubbed before it is cut to a detail, so no part of a credential survives.
        var mapped = ConnectorSupport.FromHttp(answer.Status, SecretScrubber.Scrub(answer.Body, token, secret, basic));
        return (int)answer.Status switch
        {
            // RFC 7009 §2.2.1: 503 asks the client to retry later.
            503 => new(DeliveryStatus.Retry, "token revocation: " + mapped.Detail),
            400 or 401 => new(DeliveryStatus.Permanent, "token revocation refused: " + mapped.Detail),
            _ => mapped with { Detail = "token revocation: " + mapped.Detail },
        };
    }
}
