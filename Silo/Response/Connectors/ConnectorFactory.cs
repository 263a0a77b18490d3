using Microsoft.Extensions.Logging;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>Builds connectors from <c>Response:Connectors:{name}</c> and checks those settings.</summary>
public static class ConnectorFactory
{
    /// <summary>Shortest accepted <see cref="ConnectorOptions.Timeout"/>.</summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Longest accepted <see cref="ConnectorOptions.Timeout"/>.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(5);

    private static readonly string[] HttpTypes =
        [ConnectorTypes.Scim, ConnectorTypes.OAuth, ConnectorTypes.Keycloak, ConnectorTypes.Okta, ConnectorTypes.Graph, ConnectorTypes.Webhook];

    /// <summary>The connector <paramref name="options"/> describe.</summary>
    /// <param name="name">The configured name (key under <c>Response:Connectors</c>).</param>
    /// <param name="options">Its settings; <see cref="ConnectorOptions.Type"/> is matched ignoring case.</param>
    /// <param name="http">The one shared client; connectors set headers per request.</param>
    /// <param name="time">The clock (token expiry, signature timestamps, rate-limit resets).</param>
    /// <param name="logs">Loggers (the log connector).</param>
    /// <exception cref="InvalidOperationException">The settings are invalid; the message lists what
    /// <see cref="Validate"/> found.</exception>
    public static IIdpConnector Create(string name, ConnectorOptions options, HttpClient http, TimeProvider time, ILoggerFactory logs)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logs);
        var errors = Validate(name, options);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        return KnownType(options.Type) switch
        {
            ConnectorTypes.Log => new LogConnector(name, logs.CreateLogger<LogConnector>()),
            ConnectorTypes.Scim => new ScimConnector(name, options, http),
            ConnectorTypes.Ldap => new LdapConnector(name, options),
            ConnectorTypes.OAuth => new OAuthRevocationConnector(name, options, http),
            ConnectorTypes.Keycloak => new KeycloakConnector(name, options, http, time),
            ConnectorTypes.Okta => new OktaConnector(name, options, http, time),
            ConnectorTypes.Graph => new GraphConnector(name, options, http, time),
            ConnectorTypes.Webhook => new WebhookConnector(name, options, http, time),
            _ => throw new InvalidOperationException($"{Key(name, "Type")} is '{options.Type}', which is not a connector type"),
        };
    }

    /// <summary>Everything wrong with <paramref name="o"/>, one sentence each, naming
    /// <c>Response:Connectors:{name}:{Key}</c>, the value found (never a secret's value) and what is allowed; empty when
    /// the connector can be built.</summary>
    public static IReadOnlyList<string> Validate(string name, ConnectorOptions o)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(o);
        var errors = new List<string>();
        var allowed = string.Join(", ", ConnectorTypes.All);
        var type = KnownType(o.Type);
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add("A connector under Response:Connectors has an empty name; name it, e.g. Response:Connectors:idp:Type");
        }

        if (string.IsNullOrWhiteSpace(o.Type))
        {
            errors.Add($"{Key(name, "Type")} is missing; allowed: {allowed}");
        }
        else if (type is null)
        {
            errors.Add($"{Key(name, "Type")} is '{o.Type}', which is not a connector type; allowed: {allowed}");
        }

        if (type is not null && Array.IndexOf(HttpTypes, type) >= 0)
        {
            CheckUrl(errors, name, "BaseUrl", o.BaseUrl, required: true, $"a {type} connector needs one, e.g. {ExampleBaseUrl(type)}");
        }

        switch (type)
        {
            case ConnectorTypes.Keycloak:
                if (string.IsNullOrWhiteSpace(o.Realm))
                {
                    errors.Add($"{Key(name, "Realm")} is missing; a keycloak connector needs the realm name, e.g. 'master'");
                }

                CheckUrl(errors, name, "TokenUrl", o.TokenUrl, required: false, "leave it empty for {BaseUrl}/realms/{Realm}/protocol/openid-connect/token");
                CheckCredentials(errors, name, o, "a keycloak connector needs ClientId + ClientSecret (client credentials)");
                break;
            case ConnectorTypes.Okta:
                if (string.IsNullOrEmpty(o.Token))
                {
                    errors.Add($"{Key(name, "Token")} is empty; an okta connector needs an API token (sent as SSWS), as env:NAME, file:PATH or the value");
                }

                break;
            case ConnectorTypes.Graph:
                CheckUrl(errors, name, "TokenUrl", o.TokenUrl, required: false, "e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
                if (CheckCredentials(errors, name, o, "a graph connector needs ClientId + ClientSecret + TokenUrl (client credentials)")
                    && string.IsNullOrWhiteSpace(o.TokenUrl))
                {
                    errors.Add($"{Key(name, "TokenUrl")} is missing; the client-credentials grant needs it, e.g. https://login.microsoftonline.com/{{tenant}}/oauth2/v2.0/token");
                }

                break;
            case ConnectorTypes.Webhook:
                if (string.IsNullOrEmpty(o.HmacKey))
                {
                    errors.Add($"{Key(name, "HmacKey")} is missing; a webhook connector signs every call and needs a key (env:NAME, file:PATH or the value)");
                }

                break;
            case ConnectorTypes.Ldap:
                if (string.IsNullOrWhiteSpace(o.UserDnTemplate))
                {
                    errors.Add($"{Key(name, "UserDnTemplate")} is missing; an ldap connector needs a DN with {{user}}, e.g. uid={{user}},ou=people,dc=example,dc=org");
                }
                else if (!o.UserDnTemplate.Contains("{user}", StringComparison.Ordinal))
                {
                    errors.Add($"{Key(name, "UserDnTemplate")} is '{o.UserDnTemplate}', which has no {{user}}; e.g. uid={{user}},ou=people,dc=example,dc=org");
                }

                if (string.IsNullOrWhiteSpace(o.Host))
                {
                    errors.Add($"{Key(name, "Host")} is missing; an ldap connector needs the server's host name or address, e.g. 127.0.0.1");
                }

                if (o.Port is <= 0 or > 65535)
                {
                    errors.Add(FormattableString.Invariant($"{Key(name, "Port")} is {o.Port}; allowed: 1 to 65535 (389 for LDAP, 636 for LDAPS)"));
                }

                if (string.IsNullOrWhiteSpace(o.BindDn))
                {
                    errors.Add($"{Key(name, "BindDn")} is missing; an anonymous bind cannot lock accounts, e.g. cn=anomalyzt,ou=services,dc=example,dc=org");
                }

                if (string.IsNullOrWhiteSpace(o.LockAttribute) || string.IsNullOrEmpty(o.LockValue))
                {
                    errors.Add($"{Key(name, "LockAttribute")} and {Key(name, "LockValue")} must both be set, e.g. pwdAccountLockedTime and 000001010000Z");
                }

                break;
            case ConnectorTypes.OAuth:
                if (string.IsNullOrEmpty(o.ClientId))
                {
                    errors.Add($"{Key(name, "ClientId")} is missing; the revocation endpoint authenticates the client (RFC 7009)");
                }

                break;
        }

        try
        {
            ConnectorSupport.CompileSubjectPattern(o, name);
        }
        catch (InvalidOperationException ex)
        {
            errors.Add(ex.Message);
        }

        if (o.Timeout < MinTimeout || o.Timeout > MaxTimeout)
        {
            errors.Add($"{Key(name, "Timeout")} is '{o.Timeout:c}'; allowed: {MinTimeout:c} to {MaxTimeout:c}");
        }

        return errors;
    }

    private static string Key(string name, string key) => ConnectorSupport.Key(name, key);

    /// <summary>Adds an error when neither a client id nor a static token is set (<paramref name="needs"/> says what
    /// the connector needs), or when a client id has no secret; true when a client id is set (the client-credentials
    /// grant is used).</summary>
    private static bool CheckCredentials(List<string> errors, string name, ConnectorOptions o, string needs)
    {
        if (string.IsNullOrEmpty(o.ClientId))
        {
            if (string.IsNullOrEmpty(o.Token))
            {
                errors.Add($"{Key(name, "ClientId")} and {Key(name, "Token")} are both empty; {needs} or a Token");
            }

            return false;
        }

        if (string.IsNullOrEmpty(o.ClientSecret))
        {
            errors.Add($"{Key(name, "ClientSecret")} is empty; the client-credentials grant for ClientId '{o.ClientId}' needs it (env:NAME, file:PATH or the value)");
        }

        return true;
    }

    private static string? KnownType(string? type)
    {
        var trimmed = type?.Trim();
        return string.IsNullOrEmpty(trimmed)
            ? null
            : Array.Find(ConnectorTypes.All, t => string.Equals(t, trimmed, StringComparison.OrdinalIgnoreCase));
    }

    private static void CheckUrl(List<string> errors, string name, string key, string value, bool required, string hint)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors.Add($"{Key(name, key)} is missing; {hint}");
            }

            return;
        }

        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            errors.Add($"{Key(name, key)} is '{RedactUserInfo(value)}', which is not an absolute http:// or https:// URL; {hint}");
        }
        else if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            errors.Add($"{Key(name, key)} is '{RedactUserInfo(value)}', which carries credentials; put them in Token/ClientSecret (env:NAME or file:PATH) instead");
        }
    }

    /// <summary><paramref name="url"/> with everything between <c>://</c> and the last <c>@</c> replaced by <c>***</c>
    /// (over-redacts a path with <c>@</c>, never leaks a password with <c>/</c>).</summary>
    private static string RedactUserInfo(string url)
    {
        var text = ConnectorSupport.Truncate(url);
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        var start = scheme < 0 ? 0 : scheme + 3;
        var at = text.LastIndexOf('@');
        return at >= start ? text[..start] + "***" + text[at..] : text;
    }

    private static string ExampleBaseUrl(string type) => type switch
    {
        ConnectorTypes.Scim => "https://idp.example.org/scim/v2",
        ConnectorTypes.OAuth => "https://idp.example.org/oauth2/revoke",
        ConnectorTypes.Keycloak => "https://keycloak.example.org",
        ConnectorTypes.Okta => "https://example.okta.com",
        ConnectorTypes.Graph => "https://graph.microsoft.com/v1.0",
        _ => "https://soar.example.org/hooks/anomalyzt",
    };
}
