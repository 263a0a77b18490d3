using System.Text.Json;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>One item of a <c>_bulk</c> body, accepted or not, in body order.</summary>
/// <param name="Index">0-based item number.</param>
/// <param name="Action">The action name (<c>index</c>, <c>create</c>, <c>delete</c>, <c>update</c>, or what was sent).</param>
/// <param name="IndexName">The action's <c>_index</c>, or the URL's default index.</param>
/// <param name="Id">The action's <c>_id</c>, when given.</param>
/// <param name="Source">The source document (compact JSON) for accepted items; null for rejected ones.</param>
/// <param name="Error">Why the item was rejected; null when accepted.</param>
public sealed record BulkItem(int Index, string Action, string? IndexName, string? Id, byte[]? Source, string? Error)
{
    /// <summary>Whether the item was accepted.</summary>
    public bool Accepted => Error is null;
}

/// <summary>What a <c>_bulk</c> body held. <see cref="Items"/> is every item; accepted plus rejected always equals
/// its count.</summary>
/// <param name="Items">Every item, in body order.</param>
public sealed record BulkReadResult(IReadOnlyList<BulkItem> Items)
{
    /// <summary>Accepted items.</summary>
    public int Accepted => Items.Count(i => i.Accepted);

    /// <summary>Rejected items.</summary>
    public int Rejected => Items.Count(i => !i.Accepted);
}

/// <summary>Reads Elasticsearch <c>_bulk</c> NDJSON (what Fluent Bit's <c>es</c> output, Vector's <c>elasticsearch</c>
/// sink and Logstash's <c>elasticsearch</c> output send): action lines <c>{"index":{…}}</c> or <c>{"create":{…}}</c>, each
/// followed by its source line. <c>delete</c> (no source line) and <c>update</c> (one line) are rejected per item, as is
/// a source that is not a JSON object or an item with no index name. A line that is not an action is rejected and, unless
/// the line after it is an action, consumed with its supposed source line so the pairs stay aligned.</summary>
public static class ElasticBulkReader
{
    /// <summary>Reads every item of <paramref name="body"/> (already decompressed).</summary>
    /// <param name="body">The NDJSON body; <c>\r\n</c> and a missing final newline are tolerated.</param>
    /// <param name="defaultIndex">The index from the URL (<c>/{index}/_bulk</c>), used when an action has no
    /// <c>_index</c>.</param>
    public static BulkReadResult Read(ReadOnlySpan<byte> body, string? defaultIndex = null)
    {
        var lines = new List<Range>();
        var start = 0;
        while (start < body.Length)
        {
            var nl = body[start..].IndexOf((byte)'\n');
            var end = nl < 0 ? body.Length : start + nl;
            var content = end;
            if (content > start && body[content - 1] == (byte)'\r')
            {
                content--;
            }

            if (!body[start..content].Trim(" \t"u8).IsEmpty)
            {
                lines.Add(start..content);
            }

            start = end + 1;
        }

        var items = new List<BulkItem>();
        for (var i = 0; i < lines.Count; i++)
        {
            var index = items.Count;
            if (!TryAction(body[lines[i]], out var action, out var meta, out var actionError))
            {
                // Not an action: keep pairs aligned by assuming a source line follows, unless the next line is an action.
                if (i + 1 < lines.Count && !TryAction(body[lines[i + 1]], out _, out _, out _))
                {
                    i++;
                }

                items.Add(new BulkItem(index, action ?? "index", defaultIndex, null, null, actionError));
                continue;
            }

            var indexName = meta.IndexName ?? defaultIndex;
            switch (action)
            {
                case "delete":
                    items.Add(new BulkItem(index, action, indexName, meta.Id, null, "action 'delete' is not supported: AnomalyZT only ingests documents"));
                    continue;
                case "update":
                    if (i + 1 < lines.Count)
                    {
                        i++;
                    }

                    items.Add(new BulkItem(index, action, indexName, meta.Id, null, "action 'update' is not supported: AnomalyZT only ingests documents"));
                    continue;
            }

            if (i + 1 >= lines.Count)
            {
                items.Add(new BulkItem(index, action!, indexName, meta.Id, null, $"action '{action}' has no source line"));
                continue;
            }

            var source = body[lines[++i]];
            var error = meta.Error ?? (indexName is null ? "no '_index' in the action and none in the URL" : null);
            byte[]? bytes = null;
            if (error is null && !TrySource(source, out bytes, out error))
            {
                bytes = null;
            }

            items.Add(new BulkItem(index, action!, indexName, meta.Id, bytes, error));
        }

        return new BulkReadResult(items);
    }

    /// <summary>The <c>_bulk</c> reply: <c>{"took":ms,"errors":bool,"items":[{"create":{"_index","_id","_version",
    /// "result":"created","status":201}}|{"index":{…,"status":400,"error":{"type","reason"}}}]}</c>, one entry per item in
    /// order, keyed by the item's action. Accepted items without an <c>_id</c> get a generated one.</summary>
    /// <param name="result">What <see cref="Read"/> returned.</param>
    /// <param name="tookMs">Time taken, reported as <c>took</c>.</param>
    /// <param name="laterErrors">Reasons for accepted items that a later stage (the line parser) rejected, by item
    /// number; those are reported as 400 <c>document_parsing_exception</c>.</param>
    public static byte[] BuildResponse(BulkReadResult result, long tookMs, IReadOnlyDictionary<int, string>? laterErrors = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            var anyError = result.Items.Any(i => !i.Accepted || (laterErrors?.ContainsKey(i.Index) ?? false));
            w.WriteStartObject();
            w.WriteNumber("took", tookMs);
            w.WriteBoolean("errors", anyError);
            w.WriteStartArray("items");
            foreach (var item in result.Items)
            {
                var reason = item.Error;
                var type = item.Action is "delete" or "update" ? "action_request_validation_exception" : "document_parsing_exception";
                if (reason is null && laterErrors is not null && laterErrors.TryGetValue(item.Index, out var later))
                {
                    reason = later;
                    type = "document_parsing_exception";
                }

                w.WriteStartObject();
                w.WriteStartObject(item.Action is "index" or "create" or "delete" or "update" ? item.Action : "index");
                if (item.IndexName is null)
                {
                    w.WriteNull("_index");
                }
                else
                {
                    w.WriteString("_index", item.IndexName);
                }

                w.WriteString("_id", item.Id ?? Guid.NewGuid().ToString("N"));
                if (reason is null)
                {
                    w.WriteNumber("_version", 1);
                    w.WriteString("result", "created");
                    w.WriteNumber("status", 201);
                }
                else
                {
                    w.WriteNumber("status", 400);
                    w.WriteStartObject("error");
                    w.WriteString("type", type);
                    w.WriteString("reason", reason);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private readonly record struct ActionMeta(string? IndexName, string? Id, string? Error);

    private static bool TryAction(ReadOnlySpan<byte> line, out string? action, out ActionMeta meta, out string? error)
    {
        action = null;
        meta = default;
        error = null;
        try
        {
            // Two reader passes over a short line, no document: the first only validates, so invalid JSON is reported
            // as such whatever its shape.
            var check = new Utf8JsonReader(line);
            while (check.Read())
            {
            }

            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "action line is not a JSON object";
                return false;
            }

            if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName
                || reader.GetString() is not ("index" or "create" or "delete" or "update") || !OneProperty(line))
            {
                error = "action line must be one of index, create, delete, update";
                return false;
            }

            action = reader.GetString();
            reader.Read();
            meta = reader.TokenType == JsonTokenType.StartObject
                ? Metadata(ref reader)
                : new ActionMeta(null, null, $"action '{action}' metadata is not an object");
            return true;
        }
        catch (JsonException ex)
        {
            error = "action line is not valid JSON: " + ex.Message;
            return false;
        }
    }

    /// <summary>True when the line's object has exactly one member.</summary>
    private static bool OneProperty(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        reader.Read();
        var members = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            members++;
            reader.Read();
            reader.Skip();
        }

        return members == 1;
    }

    /// <summary>Reads <c>_index</c> (a non-blank string) and <c>_id</c> (a string or number) from the metadata object the
    /// reader is on; other members are skipped.</summary>
    private static ActionMeta Metadata(ref Utf8JsonReader reader)
    {
        string? index = null, id = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "_index" when reader.TokenType == JsonTokenType.String:
                    index = reader.GetString() is { } text && !string.IsNullOrWhiteSpace(text) ? text : null;
                    break;
                case "_id" when reader.TokenType == JsonTokenType.String:
                    id = reader.GetString();
                    break;
                case "_id" when reader.TokenType == JsonTokenType.Number:
                    id = System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new ActionMeta(index, id, null);
    }

    private static bool TrySource(ReadOnlySpan<byte> line, out byte[]? bytes, out string? error)
    {
        bytes = null;
        error = null;
        try
        {
            // Validated in one pass without building a document; an NDJSON line is already compact enough for the
            // line parsers (no line breaks), so it is kept as sent.
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "source is not a JSON object";
                return false;
            }

            while (reader.Read())
            {
            }

            bytes = line.Trim(" \t\r"u8).ToArray();
            return true;
        }
        catch (JsonException ex)
        {
            error = "source is not valid JSON: " + ex.Message;
            return false;
        }
    }
}
