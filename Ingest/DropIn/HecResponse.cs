using System.Text.Json;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>Splunk HEC replies: <c>{"text":"Success","code":0}</c> on success, otherwise
/// <c>{"text":"…","code":N}</c> with <c>"invalid-event-number":i</c> when one event of a batch was at fault. The codes and
/// their HTTP statuses follow Splunk's "Troubleshoot HTTP Event Collector" table: 0 Success (200), 1 Token disabled
/// (403), 2 Token is required (401), 3 Invalid authorization (401), 4 Invalid token (403), 5 No data (400), 6 Invalid
/// data format (400), 7 Incorrect index (400), 8 Internal server error (500), 9 Server is busy (503), 10 Data channel
/// is missing (400), 11 Invalid data channel (400), 12 Event field is required (400), 13 Event field cannot be blank
/// (400), 14 ACK is disabled (400), 15 Error in handling indexed fields (400), 16 Query string authorization is not
/// enabled (400). Without indexer acknowledgement a 200 means only "received".</summary>
public static class HecResponse
{
    /// <summary>Accepted.</summary>
    public const int Success = 0;

    /// <summary>The token is disabled.</summary>
    public const int TokenDisabled = 1;

    /// <summary>No <c>Authorization: Splunk &lt;token&gt;</c> header.</summary>
    public const int TokenRequired = 2;

    /// <summary>The Authorization header is malformed.</summary>
    public const int InvalidAuthorization = 3;

    /// <summary>Unknown token.</summary>
    public const int InvalidToken = 4;

    /// <summary>Empty body.</summary>
    public const int NoData = 5;

    /// <summary>Not JSON, or not an envelope.</summary>
    public const int InvalidDataFormat = 6;

    /// <summary>Bad or forbidden index.</summary>
    public const int IncorrectIndex = 7;

    /// <summary>Internal server error.</summary>
    public const int InternalError = 8;

    /// <summary>Server is busy (back-pressure); shippers retry.</summary>
    public const int ServerBusy = 9;

    /// <summary>An envelope without <c>event</c>.</summary>
    public const int EventFieldRequired = 12;

    /// <summary>An envelope whose <c>event</c> is null or blank.</summary>
    public const int EventFieldBlank = 13;

    /// <summary>The <c>fields</c> member is malformed.</summary>
    public const int IndexedFieldsError = 15;

    /// <summary>Splunk's text for a code.</summary>
    public static string Text(int code) => code switch
    {
        Success => "Success",
        TokenDisabled => "Token disabled",
        TokenRequired => "Token is required",
        InvalidAuthorization => "Invalid authorization",
        InvalidToken => "Invalid token",
        NoData => "No data",
        InvalidDataFormat => "Invalid data format",
        IncorrectIndex => "Incorrect index",
        InternalError => "Internal server error",
        ServerBusy => "Server is busy",
        10 => "Data channel is missing",
        11 => "Invalid data channel",
        EventFieldRequired => "Event field is required",
        EventFieldBlank => "Event field cannot be blank",
        14 => "ACK is disabled",
        IndexedFieldsError => "Error in handling indexed fields",
        16 => "Query string authorization is not enabled",
        _ => "Unknown error",
    };

    /// <summary>The HTTP status Splunk sends with a code.</summary>
    public static int HttpStatus(int code) => code switch
    {
        Success => 200,
        TokenDisabled or InvalidToken => 403,
        TokenRequired or InvalidAuthorization => 401,
        InternalError => 500,
        ServerBusy => 503,
        _ => 400,
    };

    /// <summary>The reply body for a code; <paramref name="invalidEventNumber"/> adds <c>invalid-event-number</c>.</summary>
    public static byte[] Body(int code, int? invalidEventNumber = null)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("text", Text(code));
            writer.WriteNumber("code", code);
            if (invalidEventNumber is { } n)
            {
                writer.WriteNumber("invalid-event-number", n);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The reply for a read body: <see cref="NoData"/> when it held nothing, success when every envelope was
    /// accepted, otherwise the first rejected envelope's code and number (as Splunk reports a bad batch).</summary>
    public static (int HttpStatus, byte[] Body) For(HecReadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Items == 0)
        {
            return (HttpStatus(NoData), Body(NoData));
        }

        if (result.Errors.Count == 0)
        {
            return (200, Body(Success));
        }

        var first = result.Errors[0];
        return (HttpStatus(first.Code), Body(first.Code, first.Index));
    }
}
