using System.Text;
using System.Text.Json;
using AnomalyZT.Ingest.DropIn;

namespace AnomalyZT.Tests.Ingest.DropIn;

public sealed class ElasticBulkReaderTests
{
    private static BulkReadResult Read(string body, string? defaultIndex = null) =>
        ElasticBulkReader.Read(Encoding.UTF8.GetBytes(body), defaultIndex);

    private static void AssertCountsAddUp(BulkReadResult r) => Assert.Equal(r.Items.Count, r.Accepted + r.Rejected);

    [Fact]
    public void Read_FluentBitEsOutput_CreateActionsWithIndex()
    {
        // Fluent Bit es output (Suppress_Type_Name On): {"create":{"_index":"fluent-bit"}} then the record with @timestamp.
        const string body = """
            {"create":{"_index":"fluent-bit"}}
            {"@timestamp":"2024-05-01T10:00:00.000Z","log":"GET / 200","kubernetes":{"pod_name":"api-0"}}
            {"create":{"_index":"fluent-bit"}}
            {"@timestamp":"2024-05-01T10:00:01.000Z","log":"GET /x 404"}

            """;

        var r = Read(body);

        AssertCountsAddUp(r);
        Assert.Equal(2, r.Accepted);
        Assert.All(r.Items, i => Assert.Equal(("create", "fluent-bit"), (i.Action, i.IndexName)));
        Assert.Equal("""{"@timestamp":"2024-05-01T10:00:01.000Z","log":"GET /x 404"}""", Encoding.UTF8.GetString(r.Items[1].Source!));
    }

    [Fact]
    public void Read_VectorElasticsearchSink_IndexActionsWithCrlfAndNoFinalNewline()
    {
        // Vector's elasticsearch sink (bulk.action = index, index = "vector-%Y.%m.%d").
        const string body = "{\"index\":{\"_index\":\"vector-2024.05.01\"}}\r\n{\"message\":\"a\",\"timestamp\":\"2024-05-01T10:00:00Z\"}\r\n"
            + "{\"index\":{\"_index\":\"vector-2024.05.01\",\"_id\":\"abc\"}}\r\n{\"message\":\"b\"}";

        var r = Read(body);

        AssertCountsAddUp(r);
        Assert.Equal(2, r.Accepted);
        Assert.Equal(("index", "abc"), (r.Items[1].Action, r.Items[1].Id));
    }

    [Fact]
    public void Read_LogstashElasticsearchOutput_NullIdAndRoutingUseUrlIndex()
    {
        // Logstash elasticsearch output writes nulls for unset _id/routing; the index may also come from the URL.
        const string body = """
            {"index":{"_id":null,"_index":"logstash-2024.05.01","routing":null}}
            {"@timestamp":"2024-05-01T10:00:00.000Z","@version":"1","message":"hello","host":{"name":"ls-0"}}
            {"index":{"_id":null,"routing":null}}
            {"message":"to the URL index"}
            """;

        var r = Read(body, "from-url");

        AssertCountsAddUp(r);
        Assert.Equal(2, r.Accepted);
        Assert.Null(r.Items[0].Id);
        Assert.Equal(("logstash-2024.05.01", "from-url"), (r.Items[0].IndexName, r.Items[1].IndexName));
    }

    [Fact]
    public void Read_UnsupportedAndMalformedItems_RejectedPerItemAndPairsStayAligned()
    {
        const string body = """
            {"create":{"_index":"a"}}
            {"ok":1}
            {"delete":{"_index":"a","_id":"1"}}
            {"update":{"_index":"a","_id":"2"}}
            {"doc":{"x":1}}
            {"create":{"_index":"a"}}
            not json
            {"create":{"_index":"a"}}
            [1,2]
            {"create":{}}
            {"no index":true}
            {"bogus":{}}
            {"orphan source":true}
            {"index":{"_index":"a"}}
            {"ok":2}
            {"create":{"_index":"a"}}
            """;

        var r = Read(body);

        AssertCountsAddUp(r);
        Assert.Equal(9, r.Items.Count);
        Assert.Equal([true, false, false, false, false, false, false, true, false], r.Items.Select(i => i.Accepted));
        Assert.Equal(["create", "delete", "update", "create", "create", "create", "index", "index", "create"], r.Items.Select(i => i.Action));
        Assert.Contains("'delete' is not supported", r.Items[1].Error, StringComparison.Ordinal);
        Assert.Contains("'update' is not supported", r.Items[2].Error, StringComparison.Ordinal);
        Assert.StartsWith("source is not valid JSON", r.Items[3].Error, StringComparison.Ordinal);
        Assert.Equal("source is not a JSON object", r.Items[4].Error);
        Assert.Equal("no '_index' in the action and none in the URL", r.Items[5].Error);
        Assert.Equal("action line must be one of index, create, delete, update", r.Items[6].Error);
        Assert.Equal("""{"ok":2}""", Encoding.UTF8.GetString(r.Items[7].Source!));
        Assert.Equal("action 'create' has no source line", r.Items[8].Error);
    }

    [Fact]
    public void Read_ActionLines_EachKindOfFaultIsNamed()
    {
        const string body = """
            {"index":{"_index":"a",
            {"ok":0}
            {"index":{},"create":{}}
            {"ok":1}
            ["index"]
            {"ok":2}
            {"index":"a"}
            {"ok":3}
            {"index":{"_index":"  ","_id":42,"routing":{"x":[1,2]}}}
            {"ok":4}
            """;

        var r = Read(body);

        AssertCountsAddUp(r);
        var errors = r.Items.Select(i => i.Error).ToList();
        Assert.Contains(errors, e => e is not null && e.StartsWith("action line is not valid JSON", StringComparison.Ordinal));
        Assert.Contains("action line must be one of index, create, delete, update", errors);
        Assert.Contains("action line is not a JSON object", errors);
        Assert.Contains("action 'index' metadata is not an object", errors);
        var last = r.Items[^1];
        Assert.Equal("42", last.Id);
        Assert.Null(last.IndexName); // blank: not an index name
    }

    [Fact]
    public void BuildResponse_ReportsPerItemStatusAndErrorsFlag()
    {
        const string body = """
            {"create":{"_index":"a","_id":"k1"}}
            {"ok":1}
            {"delete":{"_index":"a","_id":"k2"}}
            {"index":{"_index":"a"}}
            {"ok":2}
            """;
        var r = Read(body);

        var json = ElasticBulkReader.BuildResponse(r, 7, new Dictionary<int, string> { [2] = "missing required field 'timestamp'" });

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(7, root.GetProperty("took").GetInt64());
        Assert.True(root.GetProperty("errors").GetBoolean());
        var items = root.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(r.Items.Count, items.Count);
        var created = items[0].GetProperty("create");
        Assert.Equal(("a", "k1", 201, "created"), (created.GetProperty("_index").GetString(), created.GetProperty("_id").GetString(),
            created.GetProperty("status").GetInt32(), created.GetProperty("result").GetString()));
        var deleted = items[1].GetProperty("delete");
        Assert.Equal(400, deleted.GetProperty("status").GetInt32());
        Assert.Equal("action_request_validation_exception", deleted.GetProperty("error").GetProperty("type").GetString());
        var later = items[2].GetProperty("index");
        Assert.Equal(400, later.GetProperty("status").GetInt32());
        Assert.Equal("missing required field 'timestamp'", later.GetProperty("error").GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(later.GetProperty("_id").GetString()));
    }

    [Fact]
    public void BuildResponse_AllAccepted_ErrorsFalse()
    {
        var r = Read("{\"create\":{\"_index\":\"a\"}}\n{\"ok\":1}\n");

        using var doc = JsonDocument.Parse(ElasticBulkReader.BuildResponse(r, 0));

        Assert.False(doc.RootElement.GetProperty("errors").GetBoolean());
        Assert.Equal(201, doc.RootElement.GetProperty("items")[0].GetProperty("create").GetProperty("status").GetInt32());
    }

    [Fact]
    public void Read_EmptyBody_NoItems()
    {
        var r = Read("\n\n");

        Assert.Empty(r.Items);
        AssertCountsAddUp(r);
    }
}
