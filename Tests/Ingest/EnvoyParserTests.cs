using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;

namespace AnomalyZT.Tests.Ingest;

public sealed class EnvoyParserTests
{
    // A line as Istio's EnvoyJSONLogFormatIstio writes it (keys unsorted), plus the peer SAN many meshes add.
    private const string IstioLine =
        """{"upstream_host":"10.244.0.12:9080","response_flags":"-","path":"/reviews/0?ts=17","upstream_cluster":"inbound|9080||","method":"GET","downstream_local_address":"10.244.0.12:9080","start_time":"2024-05-01T10:00:00.123Z","route_name":"default","protocol":"HTTP/1.1","response_code":200,"response_code_details":"via_upstream","connection_termination_details":null,"bytes_received":17,"bytes_sent":295,"duration":3,"upstream_service_time":"2","x_forwarded_for":null,"user_agent":"Mozilla/5.0 (X11; Linux x86_64)","request_id":"8b1f6c1e-6f0b-9a0e-a3a0-3b0e5a1a7c42","authority":"reviews.default.svc.cluster.local:9080","upstream_local_address":"127.0.0.6:51231","downstream_remote_address":"10.244.0.9:47526","requested_server_name":"outbound_.9080_.v1_.reviews.default.svc.cluster.local","upstream_transport_failure_reason":null,"downstream_peer_uri_san":"spiffe://cluster.local/ns/default/sa/bookinfo-productpage"}""";

    [Fact]
    public async Task DecodeAsync_IstioLine_MapsEveryField()
    {
        var access = (await IngestHarness.DecodeAsync(IstioLine, "envoy")).SingleAccess();

        Assert.Equal(1714557600123L, access.TimestampMs);
        Assert.Equal("spiffe://cluster.local/ns/default/sa/bookinfo-productpage", access.Principal);
        Assert.Equal(PrincipalSource.Field, access.PrincipalSource);
        Assert.Equal("10.244.0.9", access.SourceIp);
        Assert.Equal("Mozilla/5.0 (X11; Linux x86_64)", access.UserAgent);
        Assert.Equal("GET", access.Action);
        Assert.Equal("reviews.default.svc.cluster.local:9080/reviews/0", access.Resource);
        Assert.Equal(Outcome.Success, access.Outcome);
        Assert.Equal(200, access.StatusCode);
        Assert.Equal(17, access.BytesIn);
        Assert.Equal(295, access.BytesOut);
        Assert.Null(access.Node);
        Assert.Equal("8b1f6c1e-6f0b-9a0e-a3a0-3b0e5a1a7c42", access.SessionId);
    }

    [Fact]
    public async Task DecodeAsync_OldStyleStrings_ParsesNumbersAndDashes()
    {
        const string line = """{"start_time":"2019-03-02T17:44:10.301Z","method":"POST","path":"/api/upload","protocol":"HTTP/1.1","response_code":"503","response_flags":"UF","bytes_received":"1024","bytes_sent":"-","duration":"12","upstream_service_time":"-","x_forwarded_for":"-","user_agent":"-","request_id":"-","authority":"-","downstream_remote_address":"[2001:db8::7]:51000"}""";

        var access = (await IngestHarness.DecodeAsync(line, "envoy")).SingleAccess();

        Assert.Equal(503, access.StatusCode);
        Assert.Equal(Outcome.Failure, access.Outcome);
        Assert.Equal(1024, access.BytesIn);
        Assert.Equal(0, access.BytesOut);
        Assert.Null(access.UserAgent);
        Assert.Null(access.SessionId);
        Assert.Equal("/api/upload", access.Resource);
        Assert.Equal("2001:db8::7", access.SourceIp);
        Assert.Equal("2001:db8::7", access.Principal);
        Assert.Equal(PrincipalSource.SourceAddress, access.PrincipalSource);
    }

    [Theory]
    [InlineData(200, Outcome.Success)]
    [InlineData(302, Outcome.Success)]
    [InlineData(401, Outcome.Denied)]
    [InlineData(403, Outcome.Denied)]
    [InlineData(404, Outcome.Failure)]
    [InlineData(503, Outcome.Failure)]
    [InlineData(0, Outcome.Failure)]
    public async Task DecodeAsync_ResponseCode_MapsOutcome(int code, Outcome expected)
    {
        var line = $$"""{"start_time":"2024-05-01T10:00:00Z","response_code":{{code}},"downstream_remote_address":"10.0.0.1:1"}""";

        Assert.Equal(expected, (await IngestHarness.DecodeAsync(line, "envoy")).SingleAccess().Outcome);
    }

    [Fact]
    public async Task DecodeAsync_XForwardedFor_DoesNotOverridePeerAddress()
    {
        // X-Forwarded-For is set by the client; a stolen token must not be able to claim its victim's address.
        const string line = """{"start_time":"2024-05-01T10:00:00Z","x_forwarded_for":"203.0.113.7, 10.0.0.2","downstream_remote_address":"10.0.0.2:3345","response_code":null}""";

        var access = (await IngestHarness.DecodeAsync(line, "envoy")).SingleAccess();

        Assert.Equal("10.0.0.2", access.SourceIp);
        Assert.Equal("10.0.0.2", access.Principal);
        Assert.Equal(PrincipalSource.SourceAddress, access.PrincipalSource);
    }

    [Fact]
    public async Task DecodeAsync_XForwardedForWithoutPeerAddress_FirstEntryIsSourceIp()
    {
        const string line = """{"start_time":"2024-05-01T10:00:00Z","x_forwarded_for":"203.0.113.7, 10.0.0.2","downstream_peer_uri_san":"spiffe://c/ns/a/sa/b"}""";

        var access = (await IngestHarness.DecodeAsync(line, "envoy")).SingleAccess();

        Assert.Equal("203.0.113.7", access.SourceIp);
    }

    [Fact]
    public async Task DecodeAsync_XfccHeader_TakesUriElement()
    {
        const string line = """{"start_time":"2024-05-01T10:00:00Z","downstream_remote_address":"10.0.0.2:3345","x_forwarded_client_cert":"By=spiffe://cluster.local/ns/default/sa/reviews;Hash=4a1b9f0c;Subject=\"\";URI=spiffe://cluster.local/ns/default/sa/productpage","jwt_sub":"alice"}""";

        var access = (await IngestHarness.DecodeAsync(line, "envoy")).SingleAccess();

        Assert.Equal("spiffe://cluster.local/ns/default/sa/productpage", access.Principal);
        Assert.Equal(PrincipalSource.Field, access.PrincipalSource);
    }

    [Fact]
    public async Task DecodeAsync_XfccWithoutUri_FallsToNextField()
    {
        const string line = """{"start_time":"2024-05-01T10:00:00Z","x_forwarded_client_cert":"Hash=4a1b9f0c;Subject=\"CN=legacy\"","jwt_sub":"alice"}""";

        Assert.Equal("alice", (await IngestHarness.DecodeAsync(line, "envoy")).SingleAccess().Principal);
    }

    [Theory]
    [InlineData("""{"user":"u8","jwt_subject":"u7","jwt_sub":"u6","x_auth_request_user":"u5","x-forwarded-user":"u4","x_forwarded_user":"u3","downstream_peer_uri_san":"spiffe://u1"}""", "spiffe://u1")]
    [InlineData("""{"user":"u8","jwt_subject":"u7","jwt_sub":"u6","x_auth_request_user":"u5","x-forwarded-user":"u4","x_forwarded_user":"u3"}""", "u3")]
    [InlineData("""{"user":"u8","jwt_subject":"u7","jwt_sub":"u6","x_auth_request_user":"u5","x-forwarded-user":"u4"}""", "u4")]
    [InlineData("""{"user":"u8","jwt_subject":"u7","jwt_sub":"u6","x_auth_request_user":"u5"}""", "u5")]
    [InlineData("""{"user":"u8","jwt_subject":"u7","jwt_sub":"u6"}""", "u6")]
    [InlineData("""{"user":"u8","jwt_subject":"u7"}""", "u7")]
    [InlineData("""{"user":"u8","jwt_sub":"-","downstream_peer_uri_san":""}""", "u8")]
    public async Task DecodeAsync_PrincipalFields_FirstPresentInConfiguredOrderWins(string principals, string expected)
    {
        var line = principals[..^1] + ""","start_time":"2024-05-01T10:00:00Z","downstream_remote_address":"10.0.0.1:1"}""";

        var access = (await IngestHarness.DecodeAsync(line, "envoy")).SingleAccess();

        Assert.Equal(expected, access.Principal);
        Assert.Equal(PrincipalSource.Field, access.PrincipalSource);
    }

    [Fact]
    public async Task DecodeAsync_ConfiguredPrincipalFields_ReplaceDefaults()
    {
        var options = new IngestOptions();
        options.Formats["Envoy"] = new FormatOptions { PrincipalFields = ["headers.x-user", "jwt_sub"] };
        const string line = """{"start_time":"2024-05-01T10:00:00Z","downstream_peer_uri_san":"spiffe://ignored","jwt_sub":"bob","headers":{"x-user":"carol","other":{"deep":[1,2]}}}""";

        var access = (await IngestHarness.DecodeAsync(line, "envoy", options)).SingleAccess();

        Assert.Equal("carol", access.Principal);
    }

    [Fact]
    public async Task DecodeAsync_EscapedValues_AreUnescaped()
    {
        const string line = """{"start_time":"2024-05-01T10:00:00Z","jwt_sub":"caf\u00e9\"x\"","path":"/a\/b?q","downstream_remote_address":"10.0.0.1:1"}""";

        var access = (await IngestHarness.DecodeAsync(line, "envoy")).SingleAccess();

        Assert.Equal("café\"x\"", access.Principal);
        Assert.Equal("/a/b", access.Resource);
    }

    [Theory]
    [InlineData("""{"method":"GET","downstream_remote_address":"10.0.0.1:1"}""", "line 1: missing required field 'start_time'")]
    [InlineData("""{"start_time":"yesterday","downstream_remote_address":"10.0.0.1:1"}""", "line 1: field 'start_time' is not an RFC 3339 timestamp or epoch number")]
    [InlineData("""{"start_time":"2024-05-01T10:00:00Z","bytes_sent":"lots","downstream_remote_address":"10.0.0.1:1"}""", "line 1: field 'bytes_sent' is not a number")]
    [InlineData("""{"start_time":"2024-05-01T10:00:00Z","bytes_sent":-4,"downstream_remote_address":"10.0.0.1:1"}""", "line 1: field 'bytes_sent' is not a non-negative integer")]
    [InlineData("""{"start_time":"2024-05-01T10:00:00Z","response_code":1200,"downstream_remote_address":"10.0.0.1:1"}""", "line 1: field 'response_code' is 1200; an HTTP status must be 0-999")]
    [InlineData("""{"start_time":"2024-05-01T10:00:00Z","method":{"x":1},"downstream_remote_address":"10.0.0.1:1"}""", "line 1: field 'method' is not a string")]
    [InlineData("""{"start_time":"2024-05-01T10:00:00Z","downstream_remote_address":"-"}""", "line 1: no principal: none of [downstream_peer_uri_san, x_forwarded_client_cert, x_forwarded_user, x-forwarded-user, x_auth_request_user, jwt_sub, jwt_subject, user] present and no source address")]
    [InlineData("""{"start_time":"2024-05-01T10:00:00Z" "method":"GET"}""", "line 1: invalid JSON at byte 38 ('\"' is invalid after a value. Expected either ',', '}', or ']')")]
    [InlineData("""["start_time"]""", "line 1: expected a JSON object")]
    [InlineData("""{"start_time":"2024-05-01T10:00:00Z"} {}""", "line 1: invalid JSON at byte 39 ('{' is invalid after a single JSON value. Expected end of data)")]
    public async Task DecodeAsync_BadLine_RejectsWithSpecificReason(string line, string expected)
    {
        Assert.Equal(expected, (await IngestHarness.DecodeAsync(line, "envoy")).SingleReason());
    }

    [Fact]
    public async Task DecodeAsync_FieldOverLimit_RejectsNamingField()
    {
        var options = new IngestOptions { MaxFieldBytes = 100 };
        var line = $$"""{"start_time":"2024-05-01T10:00:00Z","downstream_remote_address":"10.0.0.1:1","user_agent":"{{new string('a', 101)}}"}""";

        var reason = (await IngestHarness.DecodeAsync(line, "envoy", options)).SingleReason();

        Assert.Equal("line 1: field 'user_agent' is 101 bytes; the limit is 100", reason);
    }

    [Fact]
    public async Task DecodeAsync_UnusedLongField_IsNotLimited()
    {
        var options = new IngestOptions { MaxFieldBytes = 100 };
        var line = $$"""{"start_time":"2024-05-01T10:00:00Z","downstream_remote_address":"10.0.0.1:1","upstream_cluster":"{{new string('a', 500)}}"}""";

        Assert.Equal("10.0.0.1", (await IngestHarness.DecodeAsync(line, "envoy", options)).SingleAccess().Principal);
    }
}
