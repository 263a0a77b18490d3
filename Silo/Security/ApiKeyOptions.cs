namespace AnomalyZT.Silo.Security;

/// <summary>Roles, least privilege first. A key has exactly one.</summary>
public static class Roles
{
    /// <summary>May post events, nothing else.</summary>
    public const string Shipper = "shipper";

    /// <summary>May read alerts, entities and dead letters.</summary>
    public const string Viewer = "viewer";

    /// <summary>May read everything a viewer reads, and approve, reject and undo response actions.</summary>
    public const string Responder = "responder";

    /// <summary>May do everything.</summary>
    public const string Admin = "admin";

    /// <summary>Every role name.</summary>
    public static readonly string[] All = [Shipper, Viewer, Responder, Admin];
}

/// <summary>One API key, stored only as the SHA-256 of the key text.</summary>
public sealed class ApiKeyEntry
{
    /// <summary>A name for audit and logs (never the key).</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Lower-case hex SHA-256 of the UTF-8 key.</summary>
    public string Sha256 { get; set; } = string.Empty;

    /// <summary>One of <see cref="Roles.All"/>.</summary>
    public string Role { get; set; } = string.Empty;
}

/// <summary>API key settings (section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Auth";

    /// <summary>Keys allowed to call the API. When empty, the silo generates an admin and a shipper key on first start.</summary>
    public List<ApiKeyEntry> Keys { get; set; } = [];
}
