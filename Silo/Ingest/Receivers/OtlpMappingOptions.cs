using AnomalyZT.Ingest.DropIn;

namespace AnomalyZT.Silo.Receivers;

/// <summary>Which OTLP log attributes make an access event (section <c>Ingest:Otlp</c>). Each list replaces the default
/// (the OpenTelemetry semantic conventions, see <see cref="OtlpAccessMapping"/>) and is tried in order; resource,
/// scope and record attributes are all visible, nested kvlists as <c>a.b</c>, a kvlist body as <c>body.a</c>.</summary>
public sealed class OtlpMappingOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Ingest:Otlp";

    /// <summary>Who acted (default <c>user.name</c>, <c>enduser.id</c>).</summary>
    public List<string>? Principal { get; set; }

    /// <summary>Client address (default <c>client.address</c>, <c>source.address</c>, <c>network.peer.address</c>).</summary>
    public List<string>? SourceIp { get; set; }

    /// <summary>User agent (default <c>user_agent.original</c>).</summary>
    public List<string>? UserAgent { get; set; }

    /// <summary>Action (default <c>http.request.method</c>).</summary>
    public List<string>? Action { get; set; }

    /// <summary>Resource (default <c>url.path</c>, <c>http.route</c>).</summary>
    public List<string>? Resource { get; set; }

    /// <summary>HTTP status code (default <c>http.response.status_code</c>).</summary>
    public List<string>? Status { get; set; }

    /// <summary>Bytes in (default <c>http.request.body.size</c>).</summary>
    public List<string>? BytesIn { get; set; }

    /// <summary>Bytes out (default <c>http.response.body.size</c>).</summary>
    public List<string>? BytesOut { get; set; }

    /// <summary>Node (default <c>host.name</c>, <c>k8s.node.name</c>).</summary>
    public List<string>? Node { get; set; }

    /// <summary>Session or request id (default <c>session.id</c>).</summary>
    public List<string>? SessionId { get; set; }

    /// <summary>The mapping: each configured list, else the default.</summary>
    public OtlpAccessMapping ToMapping()
    {
        var d = new OtlpAccessMapping();
        return new OtlpAccessMapping
        {
            Principal = Principal ?? d.Principal,
            SourceIp = SourceIp ?? d.SourceIp,
            UserAgent = UserAgent ?? d.UserAgent,
            Action = Action ?? d.Action,
            Resource = Resource ?? d.Resource,
            Status = Status ?? d.Status,
            BytesIn = BytesIn ?? d.BytesIn,
            BytesOut = BytesOut ?? d.BytesOut,
            Node = Node ?? d.Node,
            SessionId = SessionId ?? d.SessionId,
        };
    }

    /// <summary>One message per invalid list: empty, or with a blank or over-long attribute name.</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        Check(nameof(Principal), Principal, errors);
        Check(nameof(SourceIp), SourceIp, errors);
        Check(nameof(UserAgent), UserAgent, errors);
        Check(nameof(Action), Action, errors);
        Check(nameof(Resource), Resource, errors);
        Check(nameof(Status), Status, errors);
        Check(nameof(BytesIn), BytesIn, errors);
        Check(nameof(BytesOut), BytesOut, errors);
        Check(nameof(Node), Node, errors);
        Check(nameof(SessionId), SessionId, errors);
        return errors;
    }

    private static void Check(string name, List<string>? names, List<string> errors)
    {
        if (names is null)
        {
            return;
        }

        if (names.Count == 0)
        {
            errors.Add($"{SectionName}:{name} is empty; list at least one attribute name, or leave it out for the default");
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]) || names[i].Length > 200)
            {
                errors.Add($"{SectionName}:{name}:{i} is '{names[i]}'; it must be an attribute name of 1 to 200 characters");
            }
        }
    }
}
