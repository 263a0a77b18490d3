// Connector factory and log connector contract: the configuration keys are this project's own
// (Response:Connectors:{name}:{Key}, see ConnectorOptions); the rules follow the providers' documentation cited in the
// Keycloak, Okta, Graph and Webhook contract test files, RFC 3986 (absolute http/https URLs) and RFC 7009 (the OAuth
// revocation endpoint authenticates the client).

using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyZT.Tests.Response.Contracts;

public sealed class ConnectorFactoryContractTests
{
    private const string Secret = "literal-secret-value-93kd";

    private static ConnectorOptions Valid(string type) => type switch
    {
        ConnectorTypes.Log => new() { Type = type },
        ConnectorTypes.Scim => new() { Type = type, BaseUrl = "https://idp.example.org/scim/v2", Token = Secret },
        ConnectorTypes.Ldap => new() { Type = type, UserDnTemplate = "uid={user},ou=people,dc=example,dc=org", BindDn = "cn=admin,dc=example,dc=org", BindPassword = Secret },
        ConnectorTypes.OAuth => new() { Type = type, BaseUrl = "https://idp.example.org/oauth2/revoke", ClientId = "anomalyzt", ClientSecret = Secret },
        ConnectorTypes.Keycloak => new() { Type = type, BaseUrl = "https://keycloak.example.org", Realm = "acme", ClientId = "anomalyzt", ClientSecret = Secret },
        ConnectorTypes.Okta => new() { Type = type, BaseUrl = "https://example.okta.com", Token = Secret },
        ConnectorTypes.Graph => new()
        {
            Type = type, BaseUrl = "https://graph.microsoft.com/v1.0", ClientId = "app", ClientSecret = Secret,
            TokenUrl = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token",
        },
        ConnectorTypes.Webhook => new() { Type = type, BaseUrl = "https://soar.example.org/hooks/anomalyzt", HmacKey = Secret },
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static TheoryData<string> AllTypes => [.. ConnectorTypes.All];

    public static TheoryData<string> HttpTypes =>
        [ConnectorTypes.Scim, ConnectorTypes.OAuth, ConnectorTypes.Keycloak, ConnectorTypes.Okta, ConnectorTypes.Graph, ConnectorTypes.Webhook];

    private static string Single(ConnectorOptions options, string name = "idp")
    {
        var errors = ConnectorFactory.Validate(name, options);
        var error = Assert.Single(errors);
        Assert.DoesNotContain(Secret, error);
        return error;
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Validate_ValidSettings_HaveNoErrors_AndCreateBuildsTheType(string type)
    {
        Assert.Empty(ConnectorFactory.Validate("idp", Valid(type)));

        using var http = new HttpClient();
        var connector = ConnectorFactory.Create("idp", Valid(type), http, TimeProvider.System, NullLoggerFactory.Instance);

        Assert.Equal("idp", connector.Name);
        Assert.Equal(type switch
        {
            ConnectorTypes.Log => typeof(LogConnector),
            ConnectorTypes.Scim => typeof(ScimConnector),
            ConnectorTypes.Ldap => typeof(LdapConnector),
            ConnectorTypes.OAuth => typeof(OAuthRevocationConnector),
            ConnectorTypes.Keycloak => typeof(KeycloakConnector),
            ConnectorTypes.Okta => typeof(OktaConnector),
            ConnectorTypes.Graph => typeof(GraphConnector),
            _ => typeof(WebhookConnector),
        }, connector.GetType());
    }

    [Fact]
    public void Validate_TypeIsMatchedIgnoringCase()
    {
        var options = Valid(ConnectorTypes.Okta);
        options.Type = "Okta";

        Assert.Empty(ConnectorFactory.Validate("idp", options));
        using var http = new HttpClient();
        Assert.IsType<OktaConnector>(ConnectorFactory.Create("idp", options, http, TimeProvider.System, NullLoggerFactory.Instance));
    }

    [Fact]
    public void Validate_UnknownType_NamesKeyValueAndAllowed()
    {
        var error = Single(new ConnectorOptions { Type = "saml" });

        Assert.StartsWith("Response:Connectors:idp:Type is 'saml'", error);
        Assert.Contains("log, scim, ldap, oauth, keycloak, okta, graph, webhook", error);
    }

    [Fact]
    public void Validate_MissingType_IsNamed()
    {
        Assert.StartsWith("Response:Connectors:idp:Type is missing", Single(new ConnectorOptions()));
    }

    [Theory]
    [MemberData(nameof(HttpTypes))]
    public void Validate_MissingBaseUrl_ForHttpTypes(string type)
    {
        var options = Valid(type);
        options.BaseUrl = "";

        var error = Single(options);

        Assert.StartsWith("Response:Connectors:idp:BaseUrl is missing", error);
        Assert.Contains("https://", error);
    }

    [Theory]
    [InlineData("keycloak.example.org")]
    [InlineData("/relative/path")]
    [InlineData("ftp://keycloak.example.org")]
    [InlineData("file:///etc/passwd")]
    public void Validate_BaseUrlNotAbsoluteHttp_NamesTheValue(string url)
    {
        var options = Valid(ConnectorTypes.Keycloak);
        options.BaseUrl = url;

        var error = Single(options);

        Assert.StartsWith($"Response:Connectors:idp:BaseUrl is '{url}', which is not an absolute http:// or https:// URL", error);
    }

    [Fact]
    public void Validate_BaseUrlWithCredentials_IsRejected_AndRedacted()
    {
        var options = Valid(ConnectorTypes.Webhook);
        options.BaseUrl = $"https://svc:{Secret}@soar.example.org/hook";

        var error = Single(options);

        Assert.Contains("https://***@soar.example.org/hook", error);
        Assert.Contains("carries credentials", error);
    }

    [Fact]
    public void Validate_Keycloak_MissingRealm()
    {
        var options = Valid(ConnectorTypes.Keycloak);
        options.Realm = " ";

        Assert.StartsWith("Response:Connectors:idp:Realm is missing", Single(options));
    }

    [Fact]
    public void Validate_Keycloak_NoCredentials()
    {
        var options = Valid(ConnectorTypes.Keycloak);
        options.ClientId = "";
        options.ClientSecret = "";

        Assert.Contains("Response:Connectors:idp:Token", Single(options));
    }

    [Fact]
    public void Validate_Keycloak_ClientIdWithoutSecret()
    {
        var options = Valid(ConnectorTypes.Keycloak);
        options.ClientSecret = "";

        Assert.StartsWith("Response:Connectors:idp:ClientSecret is empty", Single(options));
    }

    [Fact]
    public void Validate_Okta_MissingToken()
    {
        var options = Valid(ConnectorTypes.Okta);
        options.Token = "";

        Assert.StartsWith("Response:Connectors:idp:Token is empty", Single(options));
    }

    [Fact]
    public void Validate_Graph_ClientCredentialsWithoutTokenUrl()
    {
        var options = Valid(ConnectorTypes.Graph);
        options.TokenUrl = "";

        var error = Single(options);

        Assert.StartsWith("Response:Connectors:idp:TokenUrl is missing", error);
        Assert.Contains("login.microsoftonline.com/{tenant}/oauth2/v2.0/token", error);
    }

    [Fact]
    public void Validate_Graph_TokenUrlNotHttp()
    {
        var options = Valid(ConnectorTypes.Graph);
        options.TokenUrl = "login.microsoftonline.com/contoso";

        Assert.StartsWith("Response:Connectors:idp:TokenUrl is 'login.microsoftonline.com/contoso'", Single(options));
    }

    [Fact]
    public void Validate_Ldap_MissingUserDnTemplate()
    {
        var options = Valid(ConnectorTypes.Ldap);
        options.UserDnTemplate = "";

        Assert.StartsWith("Response:Connectors:idp:UserDnTemplate is missing", Single(options));
    }

    [Fact]
    public void Validate_Ldap_UserDnTemplateWithoutPlaceholder()
    {
        var options = Valid(ConnectorTypes.Ldap);
        options.UserDnTemplate = "uid=alice,ou=people,dc=example,dc=org";

        var error = Single(options);

        Assert.StartsWith("Response:Connectors:idp:UserDnTemplate is 'uid=alice,ou=people,dc=example,dc=org', which has no {user}", error);
    }

    [Fact]
    public void Validate_Ldap_MissingBindDn()
    {
        var options = Valid(ConnectorTypes.Ldap);
        options.BindDn = "";

        Assert.StartsWith("Response:Connectors:idp:BindDn is missing", Single(options));
    }

    [Fact]
    public void Validate_Ldap_PortOutOfRange()
    {
        var options = Valid(ConnectorTypes.Ldap);
        options.Port = 70000;

        Assert.StartsWith("Response:Connectors:idp:Port is 70000", Single(options));
    }

    [Fact]
    public void Validate_OAuth_MissingClientId()
    {
        var options = Valid(ConnectorTypes.OAuth);
        options.ClientId = "";

        Assert.StartsWith("Response:Connectors:idp:ClientId is missing", Single(options));
    }

    [Fact]
    public void Validate_Webhook_MissingHmacKey()
    {
        var options = Valid(ConnectorTypes.Webhook);
        options.HmacKey = "";

        Assert.StartsWith("Response:Connectors:idp:HmacKey is missing", Single(options));
    }

    [Theory]
    [InlineData("^(?<user>[^@]+@")]
    [InlineData("^([^@]+)@")]
    public void Validate_InvalidSubjectPattern(string pattern)
    {
        var options = Valid(ConnectorTypes.Okta);
        options.SubjectPattern = pattern;

        Assert.StartsWith("Response:Connectors:idp:SubjectPattern", Single(options));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(0)]
    [InlineData(301_000)]
    public void Validate_TimeoutOutOfRange(int milliseconds)
    {
        var options = Valid(ConnectorTypes.Webhook);
        options.Timeout = TimeSpan.FromMilliseconds(milliseconds);

        var error = Single(options);

        Assert.StartsWith("Response:Connectors:idp:Timeout is '", error);
        Assert.Contains("allowed: 00:00:01 to 00:05:00", error);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(300_000)]
    public void Validate_TimeoutBounds_AreAllowed(int milliseconds)
    {
        var options = Valid(ConnectorTypes.Webhook);
        options.Timeout = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Empty(ConnectorFactory.Validate("idp", options));
    }

    [Fact]
    public void Validate_ReportsEveryProblem_NeverASecret()
    {
        var errors = ConnectorFactory.Validate("kc", new ConnectorOptions
        {
            Type = ConnectorTypes.Keycloak,
            BaseUrl = "not a url",
            Token = Secret,
            SubjectPattern = "(",
            Timeout = TimeSpan.Zero,
        });

        Assert.Equal(4, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("Response:Connectors:kc:", e));
        Assert.All(errors, e => Assert.DoesNotContain(Secret, e));
    }

    [Fact]
    public void Create_InvalidSettings_Throws_WithTheErrors()
    {
        using var http = new HttpClient();
        var ex = Assert.Throws<InvalidOperationException>(() =>
            ConnectorFactory.Create("hook", new ConnectorOptions { Type = ConnectorTypes.Webhook, BaseUrl = "https://soar.example.org" }, http, TimeProvider.System, NullLoggerFactory.Instance));

        Assert.Contains("Response:Connectors:hook:HmacKey is missing", ex.Message);
    }

    [Fact]
    public async Task LogConnector_LogsKindSubjectRestore_AtInformation_NeverTheToken()
    {
        var logger = new ListLogger();
        var connector = new LogConnector("embedded", logger);
        const string token = "at-secret-token-to-revoke-1";

        var result = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.RevokeToken, "alice@example.org", restore: false, token: token), Contract.Ct);
        var restore = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "bob@example.org", restore: true), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal(DeliveryStatus.Done, restore.Status);
        Assert.Equal(2, logger.Entries.Count);
        Assert.All(logger.Entries, e => Assert.Equal(LogLevel.Information, e.Level));
        Assert.Contains("RevokeToken", logger.Entries[0].Message);
        Assert.Contains("alice@example.org", logger.Entries[0].Message);
        Assert.Contains("restore False", logger.Entries[0].Message);
        Assert.Contains("restore True", logger.Entries[1].Message);
        Assert.All(logger.Entries, e => Assert.DoesNotContain(token, e.Message + string.Join(",", e.State)));
        Assert.DoesNotContain(token, result.Detail);
        Assert.All(Enum.GetValues<ResponseActionKind>(), k => Assert.True(connector.Supports(k, true)));
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> State)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
    }
}
