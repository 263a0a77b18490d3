using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>A SCIM 2.0 service provider (RFC 7643, RFC 7644): disables a user by setting its <c>active</c> attribute
/// to false with a PATCH, and restores it by setting it to true.</summary>
/// <remarks>The user is found with <c>GET {BaseUrl}/Users?filter=userName eq "…"</c>; when its <c>active</c> is
/// already the asked value nothing is sent and the result is <see cref="DeliveryStatus.AlreadyInState"/>. SCIM has
/// no sessions, so only <see cref="ResponseActionKind.Disable"/> is supported. The bearer token comes from
/// <see cref="ConnectorOptions.Token"/>.</remarks>
public sealed class ScimConnector : IIdpConnector
{
    private const string ScimMediaType = "application/scim+json";
    private const string PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    private readonly ConnectorOptions _options;
    private readonly HttpClient _http;
    private readonly Regex? _subjectPattern;
    private readonly string _baseUrl;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">The configured name (key under <c>Response:Connectors</c>).</param>
    /// <param name="options">Its settings: <see cref="ConnectorOptions.BaseUrl"/> (the SCIM base, e.g.
    /// <c>https://idp.example.org/scim/v2</c>), <see cref="ConnectorOptions.Token"/>,
    /// <see cref="ConnectorOptions.SubjectPattern"/>, <see cref="ConnectorOptions.Timeout"/>.</param>
    /// <param name="http">The client to send with; its own timeout should be at least <see cref="ConnectorOptions.Timeout"/>.</param>
    /// <exception cref="InvalidOperationException">The base URL is not an absolute http(s) URL, or the subject
    /// pattern is invalid.</exception>
    public ScimConnector(string name, ConnectorOptions options, HttpClient http)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        ConnectorSupport.HttpBaseUrl(name, options.BaseUrl, "the SCIM base, e.g. https://idp.example.org/scim/v2");
        Name = name;
        _options = options;
        _http = http;
        _baseUrl = options.BaseUrl.TrimEnd('/');
        _subjectPattern = ConnectorSupport.CompileSubjectPattern(options, name);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    /// <remarks>Only <see cref="ResponseActionKind.Disable"/> and its restore.</remarks>
    public bool Supports(ResponseActionKind kind, bool restore) => kind == ResponseActionKind.Disable;

    /// <inheritdoc />
    public async Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (ConnectorSupport.CheckDisable(this, "SCIM", _subjectPattern, request, out var user) is { } refused)
        {
            return refused;
        }

        if (ConnectorSupport.ResolveSecret(Name, "Token", _options.Token, required: true, out var token) is { } missing)
        {
            return missing;
        }

        return await ConnectorHttp.RunScrubbedAsync(
            "SCIM call", _options.Timeout, [token], t => SetActiveAsync(user, active: request.Restore, token, t), ct).ConfigureAwait(false);
    }

    /// <summary><paramref name="value"/> as the body of a SCIM filter's JSON string (RFC 7644 §3.4.2.2: the
    /// comparison value is a JSON string), without the enclosing quotes.</summary>
    internal static string EscapeFilterValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case < ' ':
                    builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>The URL that finds <paramref name="user"/> by userName.</summary>
    internal string FindUrl(string user) =>
        _baseUrl + "/Users?filter=" + Uri.EscapeDataString("userName eq \"" + EscapeFilterValue(user) + "\"");

    private async Task<DeliveryResult> SetActiveAsync(string user, bool active, string token, CancellationToken ct)
    {
        var find = await SendAsync(HttpMethod.Get, FindUrl(user), body: null, token, ct).ConfigureAwait(false);
        if (!find.IsSuccess)
        {
            return Prefix("SCIM user search", ConnectorSupport.FromHttp(find.Status, find.Body));
        }

        var ((id, current), error) = ParseSearch(find.Body, user);
        if (error is not null)
        {
            return new(DeliveryStatus.Permanent, error);
        }

        var state = active ? "active" : "inactive";
        if (current == active)
        {
            return new(DeliveryStatus.AlreadyInState, $"SCIM user '{user}' is already {state}");
        }

        var patch = await SendAsync(HttpMethod.Patch, _baseUrl + "/Users/" + Uri.EscapeDataString(id!), PatchBody(active), token, ct).ConfigureAwait(false);
        if (patch.IsSuccess)
        {
            return new(DeliveryStatus.Done, FormattableString.Invariant($"SCIM user '{user}' set {state} (HTTP {(int)patch.Status})"));
        }

        return patch.Status == HttpStatusCode.NotFound
            ? new(DeliveryStatus.Permanent, $"SCIM user '{user}' not found at PATCH (deleted meanwhile?): " + ConnectorSupport.FromHttp(patch.Status, patch.Body).Detail)
            : Prefix("SCIM PATCH", ConnectorSupport.FromHttp(patch.Status, patch.Body));
    }

    /// <summary>Sends <paramref name="method"/> <paramref name="url"/> with the bearer <paramref name="token"/> and, when
    /// given, a SCIM JSON <paramref name="body"/>; the answer's body (read with a cap) is scrubbed of the token.</summary>
    private async Task<HttpAnswer> SendAsync(HttpMethod method, string url, string? body, string token, CancellationToken ct)
    {
        var message = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            message.Content = new StringContent(body, Encoding.UTF8, ScimMediaType);
        }

        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ScimMediaType));
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var answer = await ConnectorHttp.SendAsync(_http, message, TimeProvider.System, ct).ConfigureAwait(false);
        return answer with { Body = SecretScrubber.Scrub(answer.Body, token) };
    }

    /// <summary>The id and <c>active</c> of the one user named <paramref name="user"/> in a ListResponse, or why not.</summary>
    private static ((string? Id, bool? Active) Found, string? Error) ParseSearch(string body, string user)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return (default, "SCIM user search answered with something that is not JSON: " + ConnectorSupport.Truncate(body));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (default, "SCIM user search answered with JSON that is not a ListResponse");
            }

            var matches = new List<JsonElement>();
            if (root.TryGetProperty("Resources", out var resources) && resources.ValueKind == JsonValueKind.Array)
            {
                foreach (var resource in resources.EnumerateArray())
                {
                    // userName is case-insensitive (RFC 7643 §4.1.1); a lax server may return more than asked for.
                    if (resource.ValueKind == JsonValueKind.Object
                        && resource.TryGetProperty("userName", out var name)
                        && name.ValueKind == JsonValueKind.String
                        && string.Equals(name.GetString(), user, StringComparison.OrdinalIgnoreCase))
                    {
                        matches.Add(resource);
                    }
                }
            }

            if (matches.Count == 0)
            {
                return (default, $"SCIM user '{user}' not found (no user with that userName)");
            }

            if (matches.Count > 1)
            {
                return (default, FormattableString.Invariant($"SCIM user '{user}' is ambiguous: {matches.Count} users have that userName"));
            }

            var match = matches[0];
            if (!match.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 } idText)
            {
                return (default, $"SCIM user '{user}' has no id in the search answer");
            }

            bool? active = match.TryGetProperty("active", out var a) && a.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? a.GetBoolean()
                : null;
            return ((idText, active), null);
        }
    }

    private static string PatchBody(bool active) =>
        "{\"schemas\":[\"" + PatchOpSchema + "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"active\",\"value\":"
        + (active ? "true" : "false") + "}]}";

    private static DeliveryResult Prefix(string what, DeliveryResult result) => result with { Detail = what + ": " + result.Detail };
}
