using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>A bearer token for a provider's API: either a static token (a secret reference) or an OAuth 2.0
/// client-credentials grant (RFC 6749 §4.4) at a token endpoint, cached until shortly before it expires.</summary>
/// <remarks>Concurrent callers share one token request. The client secret is sent in the form body
/// (<c>client_secret_post</c>), which both Keycloak and the Microsoft identity platform document.</remarks>
internal sealed class BearerTokenSource
{
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MaxMargin = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Uri? _tokenUrl;
    private readonly string _clientId;
    private readonly string _clientSecretReference;
    private readonly string _staticReference;
    private readonly string? _scope;
    private readonly string _keyPrefix;
    private readonly string _scheme;
    private readonly TimeSpan _timeout;
    private readonly Lock _lock = new();
    private string? _cached;
    private DateTimeOffset _refreshAt;
    private Task<TokenAnswer>? _pending;
    private string? _lastClientSecret;
    private string? _lastStatic;

    /// <summary>Creates the source. With a <paramref name="tokenUrl"/> it runs the client-credentials grant;
    /// without, it resolves <see cref="ConnectorOptions.Token"/>. Requests carry <c>Authorization: {scheme} {token}</c>.</summary>
    public BearerTokenSource(HttpClient http, TimeProvider time, ConnectorOptions options, string name, Uri? tokenUrl, string? scope, string scheme = "Bearer")
    {
        _http = http;
        _time = time;
        _tokenUrl = tokenUrl;
        _clientId = options.ClientId;
        _clientSecretReference = options.ClientSecret;
        _staticReference = options.Token;
        _scope = scope;
        _keyPrefix = $"Response:Connectors:{name}:";
        _scheme = scheme;
        _timeout = options.Timeout;
    }

    /// <summary>True when tokens come from the client-credentials grant (and can be fetched again after a 401).</summary>
    public bool CanRefresh => _tokenUrl is not null;

    /// <summary>Values that must never appear in a detail: the current access token and the resolved secrets.</summary>
    public string?[] Secrets
    {
        get
        {
            lock (_lock)
            {
                return [_cached, _lastClientSecret, _lastStatic];
            }
        }
    }

    /// <summary>A token, or the failure (token endpoint refused, unreachable, secret unresolvable) as a result.</summary>
    public async Task<TokenAnswer> GetAsync(CancellationToken ct)
    {
        if (_tokenUrl is null)
        {
            var value = SecretReference.Resolve(_staticReference, _keyPrefix + "Token");
            lock (_lock)
            {
                _lastStatic = value;
            }

            return value.Length > 0
                ? new TokenAnswer(value, default)
                : new TokenAnswer(null, new DeliveryResult(DeliveryStatus.Permanent, _keyPrefix + "Token is empty and no client credentials are configured"));
        }

        Task<TokenAnswer> pending;
        lock (_lock)
        {
            if (_cached is { } cached && _time.GetUtcNow() < _refreshAt)
            {
                return new TokenAnswer(cached, default);
            }

            _pending ??= FetchAsync();
            pending = _pending;
        }

        return await pending.WaitAsync(ct);
    }

    /// <summary>Sends <paramref name="method"/> <paramref name="url"/> with <c>Accept: application/json</c>, the JSON
    /// <paramref name="json"/> as body when given, and <c>Authorization: {scheme} {token}</c>. When the API answers 401 to
    /// a cached client-credentials token, fetches a fresh token and sends once more.</summary>
    public async Task<Sent> SendAsync(HttpMethod method, string url, byte[]? json, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await GetAsync(ct);
            if (token.Token is null)
            {
                return new Sent(default, token.Failure);
            }

            var request = new HttpRequestMessage(method, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (json is not null)
            {
                request.Content = ConnectorHttp.JsonContent(json);
            }

            request.Headers.Authorization = new AuthenticationHeaderValue(_scheme, token.Token);
            var answer = await ConnectorHttp.SendAsync(_http, request, _time, ct);
            if (answer.Status == System.Net.HttpStatusCode.Unauthorized && CanRefresh && attempt == 0)
            {
                Invalidate(token.Token);
                continue;
            }

            return new Sent(answer, null);
        }
    }

    /// <summary>Why <paramref name="sent"/> failed: the token failure, or for a non-2xx answer
    /// <see cref="ConnectorHttp.Result"/> prefixed by <paramref name="what"/> and scrubbed of <see cref="Secrets"/>; null
    /// for a 2xx answer.</summary>
    public DeliveryResult? FailureOf(Sent sent, string what)
    {
        if (sent.Failure is { } failure)
        {
            return failure;
        }

        return sent.Answer.IsSuccess ? null : ConnectorHttp.Result(sent.Answer, what, Secrets);
    }

    /// <summary>Drops <paramref name="token"/> from the cache (the API answered 401 to it).</summary>
    public void Invalidate(string token)
    {
        lock (_lock)
        {
            if (_cached == token)
            {
                _cached = null;
            }
        }
    }

    private async Task<TokenAnswer> FetchAsync()
    {
        // Always finish asynchronously, so that the caller has stored the task before the finally clears it.
        await Task.Yield();
        try
        {
            var result = await ConnectorHttp.RunAsync(_timeout, async t =>
            {
                var secret = SecretReference.Resolve(_clientSecretReference, _keyPrefix + "ClientSecret");
                lock (_lock)
                {
                    _lastClientSecret = secret;
                }

                var form = new List<KeyValuePair<string, string>>
                {
                    new("grant_type", "client_credentials"),
                    new("client_id", _clientId),
                    new("client_secret", secret),
                };
                if (!string.IsNullOrEmpty(_scope))
                {
                    form.Add(new("scope", _scope));
                }

                var request = new HttpRequestMessage(HttpMethod.Post, _tokenUrl) { Content = new FormUrlEncodedContent(form) };
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                var answer = await ConnectorHttp.SendAsync(_http, request, _time, t);
                if (!answer.IsSuccess)
                {
                    return ConnectorHttp.Result(answer, "token endpoint", [secret]);
                }

                using var doc = JsonDocument.Parse(answer.Body);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object
                    || !root.TryGetProperty("access_token", out var tokenElement)
                    || tokenElement.ValueKind != JsonValueKind.String
                    || tokenElement.GetString() is not { Length: > 0 } token)
                {
                    return new DeliveryResult(DeliveryStatus.Retry, "token endpoint: answer has no access_token");
                }

                var lifetime = Lifetime(root);
                var margin = TimeSpan.FromTicks(Math.Min(MaxMargin.Ticks, lifetime.Ticks / 2));
                lock (_lock)
                {
                    _cached = token;
                    _refreshAt = _time.GetUtcNow() + lifetime - margin;
                }

                return new DeliveryResult(DeliveryStatus.Done, "token");
            }, CancellationToken.None);

            if (result.Status != DeliveryStatus.Done)
            {
                return new TokenAnswer(null, result);
            }

            lock (_lock)
            {
                return _cached is { } cached
                    ? new TokenAnswer(cached, default)
                    : new TokenAnswer(null, new DeliveryResult(DeliveryStatus.Retry, "token endpoint: token dropped while fetching"));
            }
        }
        finally
        {
            lock (_lock)
            {
                _pending = null;
            }
        }
    }

    private static TimeSpan Lifetime(JsonElement root)
    {
        if (!root.TryGetProperty("expires_in", out var expires))
        {
            return DefaultLifetime;
        }

        var seconds = 0d;
        var ok = (expires.ValueKind == JsonValueKind.Number && expires.TryGetDouble(out seconds))
            || (expires.ValueKind == JsonValueKind.String
                && double.TryParse(expires.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out seconds));
        return ok && seconds > 0 && seconds < TimeSpan.FromDays(365).TotalSeconds ? TimeSpan.FromSeconds(seconds) : DefaultLifetime;
    }
}

/// <summary>A bearer token, or why there is none.</summary>
/// <param name="Token">The token; null on failure.</param>
/// <param name="Failure">The failure when <paramref name="Token"/> is null.</param>
internal readonly record struct TokenAnswer(string? Token, DeliveryResult Failure);

/// <summary>An API answer, or the token failure that kept the request from being sent.</summary>
/// <param name="Answer">The answer (default when <paramref name="Failure"/> is set).</param>
/// <param name="Failure">Why no request was sent.</param>
internal readonly record struct Sent(HttpAnswer Answer, DeliveryResult? Failure);
