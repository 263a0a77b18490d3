namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>Settings of one connector (section <c>Response:Connectors:{name}</c>). Secrets are references, resolved
/// by <see cref="SecretReference"/>: <c>env:NAME</c>, <c>file:/path</c>, or the literal text.</summary>
public sealed class ConnectorOptions
{
    /// <summary>One of <see cref="ConnectorTypes.All"/>.</summary>
    public string Type { get; set; } = string.Empty;

    /// <summary>Base URL: SCIM base (…/scim/v2), Keycloak server, Okta org, Graph (…/v1.0), webhook target,
    /// or the OAuth revocation endpoint.</summary>
    public string BaseUrl { get; set; } = string.Empty;

    /// <summary>A static bearer token (SCIM, Okta API token as <c>SSWS</c>, Graph), as a secret reference.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>OAuth client id (token revocation and introspection, Keycloak and Graph client credentials).</summary>
    public string ClientId { get; set; } = string.Empty;

    /// <summary>OAuth client secret, as a secret reference.</summary>
    public string ClientSecret { get; set; } = string.Empty;

    /// <summary>Token endpoint for client-credentials grants (Keycloak, Graph); empty to use <see cref="Token"/>.</summary>
    public string TokenUrl { get; set; } = string.Empty;

    /// <summary>Keycloak realm.</summary>
    public string Realm { get; set; } = string.Empty;

    /// <summary>LDAP server host (loopback or a name); LDAP connector only.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>LDAP port.</summary>
    public int Port { get; set; } = 389;

    /// <summary>LDAP: use LDAPS (TLS from the first byte).</summary>
    public bool UseTls { get; set; }

    /// <summary>LDAP bind DN.</summary>
    public string BindDn { get; set; } = string.Empty;

    /// <summary>LDAP bind password, as a secret reference.</summary>
    public string BindPassword { get; set; } = string.Empty;

    /// <summary>LDAP DN of a user, with <c>{user}</c> for the mapped subject (escaped as an RDN value),
    /// e.g. <c>uid={user},ou=people,dc=example,dc=org</c>.</summary>
    public string UserDnTemplate { get; set; } = string.Empty;

    /// <summary>LDAP attribute whose presence locks the account (OpenLDAP ppolicy: <c>pwdAccountLockedTime</c>).</summary>
    public string LockAttribute { get; set; } = "pwdAccountLockedTime";

    /// <summary>Value written to <see cref="LockAttribute"/>; <c>000001010000Z</c> means locked until an administrator unlocks.</summary>
    public string LockValue { get; set; } = "000001010000Z";

    /// <summary>Webhook: the HMAC-SHA256 key, as a secret reference.</summary>
    public string HmacKey { get; set; } = string.Empty;

    /// <summary>A regular expression over the engine's identity id with a named group <c>user</c> giving the
    /// provider's user name (e.g. <c>^(?&lt;user&gt;[^@]+)@</c>); empty to use the whole id.</summary>
    public string SubjectPattern { get; set; } = string.Empty;

    /// <summary>Per-call timeout.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The connector types.</summary>
public static class ConnectorTypes
{
    /// <summary>Logs what it would do; the default in the embedded silo.</summary>
    public const string Log = "log";

    /// <summary>SCIM 2.0 (RFC 7644): PATCH active.</summary>
    public const string Scim = "scim";

    /// <summary>LDAP: lock attribute add/remove.</summary>
    public const string Ldap = "ldap";

    /// <summary>OAuth 2.0 token revocation (RFC 7009).</summary>
    public const string OAuth = "oauth";

    /// <summary>Keycloak admin REST.</summary>
    public const string Keycloak = "keycloak";

    /// <summary>Okta management API.</summary>
    public const string Okta = "okta";

    /// <summary>Microsoft Graph.</summary>
    public const string Graph = "graph";

    /// <summary>Generic webhook with an HMAC-SHA256 signature.</summary>
    public const string Webhook = "webhook";

    /// <summary>Every type.</summary>
    public static readonly string[] All = [Log, Scim, Ldap, OAuth, Keycloak, Okta, Graph, Webhook];
}

/// <summary>Resolves secret references: <c>env:NAME</c> reads an environment variable, <c>file:PATH</c> reads a file
/// (trailing newline trimmed), anything else is the literal value. Errors name the reference, never the secret.</summary>
public static class SecretReference
{
    /// <summary>The secret <paramref name="reference"/> names; empty for an empty reference.</summary>
    /// <exception cref="InvalidOperationException">The variable is unset or the file cannot be read; the message
    /// names <paramref name="key"/> and the variable or file.</exception>
    public static string Resolve(string reference, string key)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = reference[4..];
            return Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
                ? value
                : throw new InvalidOperationException($"{key} names environment variable '{name}', which is not set");
        }

        if (reference.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = reference[5..];
            try
            {
                return File.ReadAllText(path).TrimEnd('\r', '\n');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"{key} names secret file '{path}', which cannot be read: {ex.GetType().Name}");
            }
        }

        return reference;
    }
}
