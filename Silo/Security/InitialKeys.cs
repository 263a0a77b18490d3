using System.Security.Cryptography;
using System.Text;

namespace AnomalyZT.Silo.Security;

/// <summary>First-start keys for a silo configured with none: an admin and a shipper key, generated at random.</summary>
/// <remarks>The clear keys are written once to <c>initial-keys.txt</c> in the data folder, readable by the owner only,
/// and never logged; their hashes go to <c>keys.json</c>, which later starts read. Configure <c>Auth:Keys</c> and delete
/// both files to take over.</remarks>
internal static class InitialKeys
{
    public const string KeysFile = "keys.json";
    public const string ClearFile = "initial-keys.txt";

    public static (List<ApiKeyEntry> Keys, string? CreatedFile) LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var keysPath = Path.Combine(dataDirectory, KeysFile);
        if (File.Exists(keysPath))
        {
            var stored = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllText(keysPath), Serialization.AnomalyJsonContext.Default.ListApiKeyEntry);
            return (stored ?? [], null);
        }

        var admin = NewKey("azt_admin_");
        var shipper = NewKey("azt_ship_");
        var viewer = NewKey("azt_view_");
        var responder = NewKey("azt_resp_");
        var keys = new List<ApiKeyEntry>
        {
            new() { Name = "initial-admin", Role = Roles.Admin, Sha256 = ApiKeyRegistry.Hash(admin) },
            new() { Name = "initial-shipper", Role = Roles.Shipper, Sha256 = ApiKeyRegistry.Hash(shipper) },
            new() { Name = "initial-viewer", Role = Roles.Viewer, Sha256 = ApiKeyRegistry.Hash(viewer) },
            new() { Name = "initial-responder", Role = Roles.Responder, Sha256 = ApiKeyRegistry.Hash(responder) },
        };

        var clearPath = Path.Combine(dataDirectory, ClearFile);
        var text = new StringBuilder()
            .AppendLine("# AnomalyZT initial API keys. Store them in a secret manager, then delete this file.")
            .Append("admin=").AppendLine(admin)
            .Append("shipper=").AppendLine(shipper)
            .Append("viewer=").AppendLine(viewer)
            .Append("responder=").AppendLine(responder)
            .ToString();
        WriteOwnerOnly(clearPath, text);
        WriteOwnerOnly(keysPath, System.Text.Json.JsonSerializer.Serialize(keys, Serialization.AnomalyJsonContext.Default.ListApiKeyEntry));
        return (keys, clearPath);
    }

    private static string NewKey(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private static void WriteOwnerOnly(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(content));
    }
}
