using System.Collections.Frozen;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Security;

/// <summary>Authenticates <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c> against the SHA-256
/// hashes of configured keys. The presented key is hashed before lookup, so no comparison ever touches the secret
/// and the process never holds configured keys in clear.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry registry)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>Scheme name.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The password part of HTTP Basic credentials, or null when they are not valid base64 <c>user:password</c>.</summary>
    internal static string? PasswordOf(string credentials)
    {
        Span<byte> bytes = stackalloc byte[Math.Min(credentials.Length, 1024)];
        if (!Convert.TryFromBase64String(credentials, bytes, out var written))
        {
            return null;
        }

        var text = System.Text.Encoding.UTF8.GetString(bytes[..written]);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : text[(colon + 1)..];
    }

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = null;
        if (Request.Headers.TryGetValue("X-Api-Key", out var headerKey))
        {
            key = headerKey.ToString();
        }
        else if (Request.Headers.Authorization.ToString() is { Length: > 7 } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = auth[7..].Trim();
        }
        else if (Request.Headers.Authorization.ToString() is { Length: > 7 } splunk && splunk.StartsWith("Splunk ", StringComparison.OrdinalIgnoreCase))
        {
            // What Splunk HEC clients (Fluent Bit, Vector, Logstash, the OTel Collector) send: the API key as the HEC token.
            key = splunk[7..].Trim();
        }
        else if (Request.Headers.Authorization.ToString() is { Length: > 6 } basic && basic.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            // What Elasticsearch outputs send with a user and password: the API key is the password (the user is ignored).
            key = PasswordOf(basic[6..].Trim());
        }

        if (string.IsNullOrEmpty(key))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!registry.TryFind(key, out var entry))
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, entry.Name), new Claim(ClaimTypes.Role, entry.Role)],
            SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"anomalyzt\"";
        return Response.WriteAsJsonAsync(
            new ErrorBody("unauthorized", "send an API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'"),
            Serialization.AnomalyJsonContext.Default.ErrorBody);
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Response.WriteAsJsonAsync(
            new ErrorBody("forbidden", "this key's role does not allow this endpoint"),
            Serialization.AnomalyJsonContext.Default.ErrorBody);
    }
}

/// <summary>An error answer: a short code and a sentence.</summary>
/// <param name="Error">Machine-readable code.</param>
/// <param name="Message">What went wrong and what to do.</param>
public sealed record ErrorBody(string Error, string Message);

/// <summary>The configured keys, indexed by hash.</summary>
public sealed class ApiKeyRegistry
{
    private readonly FrozenDictionary<string, ApiKeyEntry> _byHash;

    /// <summary>Indexes <paramref name="keys"/>; throws naming the first invalid entry.</summary>
    public ApiKeyRegistry(IEnumerable<ApiKeyEntry> keys)
    {
        var map = new Dictionary<string, ApiKeyEntry>(StringComparer.Ordinal);
        var i = 0;
        foreach (var k in keys)
        {
            var hash = k.Sha256.Trim().ToLowerInvariant();
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            {
                throw new ArgumentException($"Auth:Keys[{i}].Sha256 is not 64 hex digits; store the SHA-256 of the key, never the key itself");
            }

            if (Array.IndexOf(Roles.All, k.Role) < 0)
            {
                throw new ArgumentException($"Auth:Keys[{i}].Role is '{k.Role}'; it must be one of {string.Join(", ", Roles.All)}");
            }

            map[hash] = k;
            i++;
        }

        _byHash = map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Keys configured.</summary>
    public int Count => _byHash.Count;

    /// <summary>Finds the entry whose hash matches <paramref name="key"/>.</summary>
    public bool TryFind(string key, out ApiKeyEntry entry) => _byHash.TryGetValue(Hash(key), out entry!);

    /// <summary>Lower-case hex SHA-256 of the UTF-8 key.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
