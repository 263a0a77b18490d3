using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;

namespace AnomalyZT.Tests.Ingest;

public sealed class K8sAuditParserTests
{
    private const string SecretGet =
        """{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"1f6e8c0a-1b1a-4b6e-9d2a-2b9d1a0f4c11","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/secrets/token-x?timeout=10s","verb":"get","user":{"username":"system:serviceaccount:ci:deployer","uid":"5c1d2a9e-0b7f-4d1c-9b5e-77a1c2d3e4f5","groups":["system:serviceaccounts","system:serviceaccounts:ci","system:authenticated"],"extra":{"authentication.kubernetes.io/pod-name":["deployer-7d9f"]}},"sourceIPs":["10.0.3.7","10.0.0.1"],"userAgent":"kubectl/v1.29.3 (linux/amd64) kubernetes/6813625","objectRef":{"resource":"secrets","namespace":"kube-system","name":"token-x","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"responseObject":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"token-x","namespace":"kube-system","labels":{"user":{"username":"not-me"}}},"data":{"token":"ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklp"}},"requestReceivedTimestamp":"2024-05-01T10:00:00.123456Z","stageTimestamp":"2024-05-01T10:00:00.130021Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"deployer\" of ClusterRole \"admin\" to ServiceAccount \"deployer/ci\""}}""";

    [Fact]
    public async Task DecodeAsync_ResponseCompleteSecretGet_MapsEveryField()
    {
        var access = (await IngestHarness.DecodeAsync(SecretGet, "k8s-audit")).SingleAccess();

        Assert.Equal(1714557600130L, access.TimestampMs);
        Assert.Equal("system:serviceaccount:ci:deployer", access.Principal);
        Assert.Equal(PrincipalSource.Field, access.PrincipalSource);
        Assert.Equal("10.0.0.1", access.SourceIp); // the remote address, not the client-set X-Forwarded-For entry
        Assert.Equal("kubectl/v1.29.3 (linux/amd64) kubernetes/6813625", access.UserAgent);
        Assert.Equal("get", access.Action);
        Assert.Equal("secrets kube-system/token-x", access.Resource);
        Assert.Equal(Outcome.Success, access.Outcome);
        Assert.Equal(200, access.StatusCode);
        Assert.Equal("1f6e8c0a-1b1a-4b6e-9d2a-2b9d1a0f4c11", access.SessionId);
    }

    [Theory]
    [InlineData("RequestReceived")]
    [InlineData("ResponseStarted")]
    public async Task DecodeAsync_EarlyStage_IsFilteredAndAccepted(string stage)
    {
        var line = SecretGet.Replace("\"ResponseComplete\"", "\"" + stage + "\"", StringComparison.Ordinal);

        var result = await IngestHarness.DecodeAsync(IngestHarness.Lines(line, SecretGet), "k8s-audit");

        Assert.Single(result.Events);
        Assert.Empty(result.Rejected);
        Assert.Equal(new DecodeSummary(2, 2, 1, 0, 0, result.Summary.Bytes), result.Summary);
    }

    [Fact]
    public async Task DecodeAsync_Panic_IsFailureEvent()
    {
        const string line = """{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"Panic","verb":"list","user":{"username":"alice"},"requestURI":"/api/v1/pods?limit=500","stageTimestamp":"2024-05-01T10:00:00Z"}""";

        var access = (await IngestHarness.DecodeAsync(line, "k8s-audit")).SingleAccess();

        Assert.Equal(Outcome.Failure, access.Outcome);
        Assert.Equal("/api/v1/pods", access.Resource);
    }

    [Fact]
    public async Task DecodeAsync_ForbidDecision_IsDenied()
    {
        const string line = """{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a2","stage":"ResponseComplete","verb":"create","user":{"username":"mallory"},"sourceIPs":["198.51.100.4"],"objectRef":{"resource":"pods","subresource":"exec","namespace":"prod","name":"db-0"},"responseStatus":{"code":500},"stageTimestamp":"2024-05-01T10:00:00Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}""";

        var access = (await IngestHarness.DecodeAsync(line, "k8s-audit")).SingleAccess();

        Assert.Equal(Outcome.Denied, access.Outcome);
        Assert.Equal("pods/exec prod/db-0", access.Resource);
    }

    [Theory]
    [InlineData(201, Outcome.Success)]
    [InlineData(403, Outcome.Denied)]
    [InlineData(401, Outcome.Denied)]
    [InlineData(404, Outcome.Failure)]
    [InlineData(500, Outcome.Failure)]
    public async Task DecodeAsync_ResponseStatusCode_MapsOutcome(int code, Outcome expected)
    {
        var line = $$"""{"kind":"Event","stage":"ResponseComplete","user":{"username":"u"},"responseStatus":{"code":{{code}},"status":"x"},"stageTimestamp":"2024-05-01T10:00:00Z"}""";

        Assert.Equal(expected, (await IngestHarness.DecodeAsync(line, "k8s-audit")).SingleAccess().Outcome);
    }

    [Fact]
    public async Task DecodeAsync_V1Beta1WithOnlyTimestamp_UsesTimestampAndClusterScopedName()
    {
        const string line = """{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","metadata":{"creationTimestamp":"2024-05-01T09:59:59Z"},"timestamp":"2024-05-01T10:00:00Z","auditID":"b1","stage":"ResponseComplete","verb":"delete","user":{"username":"admin"},"objectRef":{"resource":"nodes","name":"node-1"},"responseStatus":{"code":200}}""";

        var access = (await IngestHarness.DecodeAsync(line, "k8s-audit")).SingleAccess();

        Assert.Equal(1714557600000L, access.TimestampMs);
        Assert.Equal("nodes node-1", access.Resource);
    }

    [Fact]
    public async Task DecodeAsync_NoUser_FallsBackToSourceIp()
    {
        const string line = """{"kind":"Event","stage":"ResponseComplete","verb":"get","user":{"groups":["system:unauthenticated"]},"sourceIPs":["192.0.2.9"],"requestURI":"/healthz","responseStatus":{"code":401},"stageTimestamp":"2024-05-01T10:00:00Z"}""";

        var access = (await IngestHarness.DecodeAsync(line, "k8s-audit")).SingleAccess();

        Assert.Equal("192.0.2.9", access.Principal);
        Assert.Equal(PrincipalSource.SourceAddress, access.PrincipalSource);
        Assert.Equal(Outcome.Denied, access.Outcome);
    }

    [Fact]
    public async Task DecodeAsync_ConfiguredImpersonatedUser_WinsOverDefault()
    {
        var options = new IngestOptions();
        options.Formats["k8s-audit"] = new FormatOptions { PrincipalFields = ["impersonatedUser.username", "user.username"] };
        const string line = """{"kind":"Event","stage":"ResponseComplete","user":{"username":"admin"},"impersonatedUser":{"username":"dev-bob"},"stageTimestamp":"2024-05-01T10:00:00Z"}""";

        Assert.Equal("dev-bob", (await IngestHarness.DecodeAsync(line, "k8s-audit", options)).SingleAccess().Principal);
    }

    [Fact]
    public async Task DecodeAsync_ConfiguredParentPath_DoesNotHideNestedPath()
    {
        var options = new IngestOptions();
        options.Formats["k8s-audit"] = new FormatOptions { PrincipalFields = ["user", "user.username"] };
        const string line = """{"kind":"Event","stage":"ResponseComplete","user":{"username":"admin"},"stageTimestamp":"2024-05-01T10:00:00Z"}""";

        Assert.Equal("admin", (await IngestHarness.DecodeAsync(line, "k8s-audit", options)).SingleAccess().Principal);
    }

    [Fact]
    public async Task DecodeAsync_BlankUsername_FallsBackToSourceIp()
    {
        const string line = """{"kind":"Event","stage":"ResponseComplete","user":{"username":"  "},"sourceIPs":[" 10.9.9.9 "],"stageTimestamp":"2024-05-01T10:00:00Z"}""";

        var access = (await IngestHarness.DecodeAsync(line, "k8s-audit")).SingleAccess();

        Assert.Equal(("10.9.9.9", PrincipalSource.SourceAddress), (access.Principal, access.PrincipalSource));
    }

    [Theory]
    [InlineData("""{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}""", "line 1: kind 'EventList' is not accepted; send one audit Event per line")]
    [InlineData("""{"kind":"Pod","apiVersion":"v1"}""", "line 1: kind 'Pod' is not an audit Event")]
    [InlineData("""{"apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete"}""", "line 1: missing required field 'kind'")]
    [InlineData("""{"kind":"Event","user":{"username":"u"},"stageTimestamp":"2024-05-01T10:00:00Z"}""", "line 1: missing required field 'stage'")]
    [InlineData("""{"kind":"Event","stage":"Done","user":{"username":"u"}}""", "line 1: field 'stage' is 'Done'; expected RequestReceived, ResponseStarted, ResponseComplete or Panic")]
    [InlineData("""{"kind":"Event","stage":"ResponseComplete","user":{"username":"u"}}""", "line 1: missing required field 'stageTimestamp'")]
    [InlineData("""{"kind":"Event","stage":"ResponseComplete","stageTimestamp":"2024-05-01T10:00:00Z"}""", "line 1: no principal: none of [user.username] present and no source address")]
    [InlineData("""{"kind":"Event","stage":"ResponseComplete","sourceIPs":"10.0.0.1"}""", "line 1: field 'sourceIPs' is not an array")]
    [InlineData("""{"kind":"Event","stage":"ResponseComplete","responseStatus":{"code":"teapot"}}""", "line 1: field 'responseStatus.code' is not a number")]
    public async Task DecodeAsync_BadEvent_RejectsWithSpecificReason(string line, string expected)
    {
        Assert.Equal(expected, (await IngestHarness.DecodeAsync(line, "k8s-audit")).SingleReason());
    }
}
