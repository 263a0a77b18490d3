using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace AnomalyZT.Tests.Deployment;

/// <summary>The parts of a Compose file the deployment tests read, parsed with YAML merge keys (<c>&lt;&lt;: *anchor</c>)
/// applied as Compose applies them. Both the short and the long syntax of ports, secrets, depends_on, environment and
/// healthcheck are understood.</summary>
internal sealed class ComposeFile
{
    private ComposeFile(string directory, string text, Dictionary<string, ComposeService> services, Dictionary<string, string> secretFiles)
    {
        Directory = directory;
        Text = text;
        Services = services;
        SecretFiles = secretFiles;
    }

    /// <summary>Folder of the file; relative paths in it are relative to this.</summary>
    public string Directory { get; }

    /// <summary>The file as written.</summary>
    public string Text { get; }

    /// <summary>Services by name.</summary>
    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    /// <summary>Top-level secrets: name → the <c>file:</c> they are read from (as written).</summary>
    public IReadOnlyDictionary<string, string> SecretFiles { get; }

    /// <summary>Parses <paramref name="path"/>.</summary>
    public static ComposeFile Load(string path)
    {
        var text = File.ReadAllText(path);
        var root = Yaml.Map(Yaml.Load(text), "the compose file");
        var services = Yaml.Map(Yaml.Get(root, "services"), "services")
            .ToDictionary(s => s.Key, s => ComposeService.Parse(s.Key, Yaml.Map(s.Value, "service " + s.Key)), StringComparer.Ordinal);
        var secrets = Yaml.Map(Yaml.Get(root, "secrets"), "secrets")
            .ToDictionary(s => s.Key, s => Yaml.Scalar(Yaml.Get(Yaml.Map(s.Value, "secret " + s.Key), "file")) ?? string.Empty, StringComparer.Ordinal);
        return new ComposeFile(Path.GetDirectoryName(Path.GetFullPath(path))!, text, services, secrets);
    }
}

/// <summary>One Compose service.</summary>
internal sealed class ComposeService
{
    public required string Name { get; init; }

    public string? Image { get; init; }

    public bool Builds { get; init; }

    /// <summary>Variables as Compose passes them (a variable listed without a value is passed through: empty here).</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required IReadOnlyList<PortMapping> Ports { get; init; }

    /// <summary>Service → condition (<c>service_started</c> for the list form).</summary>
    public required IReadOnlyDictionary<string, string> DependsOn { get; init; }

    /// <summary>Secret name → where it is mounted in the container.</summary>
    public required IReadOnlyDictionary<string, string> Secrets { get; init; }

    /// <summary>The healthcheck's <c>test</c> (first element CMD, CMD-SHELL or NONE); null when there is none or it is disabled.</summary>
    public IReadOnlyList<string>? Healthcheck { get; init; }

    public required IReadOnlyList<string> Command { get; init; }

    public required IReadOnlyList<string> Entrypoint { get; init; }

    /// <summary>Mounts: source (volume name or path as written) and target.</summary>
    public required IReadOnlyList<(string Source, string Target)> Volumes { get; init; }

    public static ComposeService Parse(string name, Dictionary<string, object?> s) => new()
    {
        Name = name,
        Image = Yaml.Scalar(Yaml.Get(s, "image")),
        Builds = Yaml.Get(s, "build") is not null,
        Environment = ParseEnvironment(Yaml.Get(s, "environment")),
        Ports = [.. Yaml.List(Yaml.Get(s, "ports")).Select(p => PortMapping.Parse(name, p))],
        DependsOn = ParseDependsOn(Yaml.Get(s, "depends_on")),
        Secrets = ParseSecrets(Yaml.Get(s, "secrets")),
        Healthcheck = ParseHealthcheck(Yaml.Get(s, "healthcheck")),
        Command = Yaml.Words(Yaml.Get(s, "command")),
        Entrypoint = Yaml.Words(Yaml.Get(s, "entrypoint")),
        Volumes = [.. Yaml.List(Yaml.Get(s, "volumes")).Select(ParseVolume)],
    };

    private static Dictionary<string, string> ParseEnvironment(object? node)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is List<object?> list)
        {
            foreach (var item in list.Select(i => Yaml.Scalar(i) ?? string.Empty))
            {
                var eq = item.IndexOf('=', StringComparison.Ordinal);
                env[eq < 0 ? item : item[..eq]] = eq < 0 ? string.Empty : item[(eq + 1)..];
            }
        }
        else if (node is not null)
        {
            foreach (var (key, value) in Yaml.Map(node, "environment"))
            {
                env[key] = Yaml.Scalar(value) ?? string.Empty;
            }
        }

        return env;
    }

    private static Dictionary<string, string> ParseDependsOn(object? node)
    {
        if (node is List<object?> list)
        {
            return list.ToDictionary(d => Yaml.Scalar(d) ?? string.Empty, _ => "service_started", StringComparer.Ordinal);
        }

        return node is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : Yaml.Map(node, "depends_on").ToDictionary(
                d => d.Key,
                d => d.Value is null ? "service_started" : Yaml.Scalar(Yaml.Get(Yaml.Map(d.Value, "depends_on " + d.Key), "condition")) ?? "service_started",
                StringComparer.Ordinal);
    }

    private static Dictionary<string, string> ParseSecrets(object? node)
    {
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in Yaml.List(node))
        {
            if (item is Dictionary<object, object?>)
            {
                var map = Yaml.Map(item, "secret");
                var source = Yaml.Scalar(Yaml.Get(map, "source")) ?? string.Empty;
                var target = Yaml.Scalar(Yaml.Get(map, "target")) ?? source;
                secrets[source] = target.StartsWith('/') ? target : "/run/secrets/" + target;
            }
            else
            {
                var source = Yaml.Scalar(item) ?? string.Empty;
                secrets[source] = "/run/secrets/" + source;
            }
        }

        return secrets;
    }

    private static List<string>? ParseHealthcheck(object? node)
    {
        if (node is null)
        {
            return null;
        }

        var map = Yaml.Map(node, "healthcheck");
        if (string.Equals(Yaml.Scalar(Yaml.Get(map, "disable")), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var test = Yaml.Get(map, "test");
        List<string> words = test is string shell ? ["CMD-SHELL", shell] : Yaml.Words(test);
        return words.Count == 0 || words[0] == "NONE" ? null : words;
    }

    private static (string Source, string Target) ParseVolume(object? node)
    {
        if (node is Dictionary<object, object?>)
        {
            var map = Yaml.Map(node, "volume");
            return (Yaml.Scalar(Yaml.Get(map, "source")) ?? string.Empty, Yaml.Scalar(Yaml.Get(map, "target")) ?? string.Empty);
        }

        var parts = (Yaml.Scalar(node) ?? string.Empty).Split(':');
        return parts.Length >= 2 ? (parts[0], parts[1]) : (string.Empty, parts[0]);
    }
}

/// <summary>One published port: <c>[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]</c> or the long syntax.</summary>
internal sealed record PortMapping(string Service, string? HostIp, int? HostPort, int ContainerPort, string Written)
{
    public static PortMapping Parse(string service, object? node)
    {
        if (node is Dictionary<object, object?>)
        {
            var map = Yaml.Map(node, "port");
            var published = Yaml.Scalar(Yaml.Get(map, "published"));
            return new PortMapping(
                service,
                Yaml.Scalar(Yaml.Get(map, "host_ip")),
                published is null ? null : int.Parse(published, CultureInfo.InvariantCulture),
                int.Parse(Yaml.Scalar(Yaml.Get(map, "target")) ?? "0", CultureInfo.InvariantCulture),
                "target " + Yaml.Scalar(Yaml.Get(map, "target")));
        }

        var written = Yaml.Scalar(node) ?? string.Empty;
        var text = written.Split('/')[0];
        string? hostIp = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            hostIp = text[1..close];
            text = text[(close + 2)..];
        }

        var parts = text.Split(':');
        if (parts.Length == 3)
        {
            hostIp = parts[0];
            parts = parts[1..];
        }

        return parts.Length == 2
            ? new PortMapping(service, hostIp, int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), written)
            : new PortMapping(service, hostIp, null, int.Parse(parts[0], CultureInfo.InvariantCulture), written);
    }
}

/// <summary>YAML as plain objects: mappings, lists and strings, merge keys applied.</summary>
internal static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    public static object? Load(string text) => Deserializer.Deserialize<object?>(new MergingParser(new Parser(new StringReader(text))));

    public static Dictionary<string, object?> Map(object? node, string what) => node switch
    {
        null => new Dictionary<string, object?>(StringComparer.Ordinal),
        Dictionary<object, object?> map => map.ToDictionary(e => Convert.ToString(e.Key, CultureInfo.InvariantCulture)!, e => e.Value, StringComparer.Ordinal),
        _ => throw new InvalidDataException(what + " is not a mapping"),
    };

    public static object? Get(Dictionary<string, object?> map, string key) => map.GetValueOrDefault(key);

    public static List<object?> List(object? node) => node switch
    {
        null => [],
        List<object?> list => list,
        _ => throw new InvalidDataException("expected a list, found " + node),
    };

    public static string? Scalar(object? node) => node switch
    {
        null => null,
        string s => s,
        Dictionary<object, object?> or List<object?> => throw new InvalidDataException("expected a value, found a " + node.GetType().Name),
        _ => Convert.ToString(node, CultureInfo.InvariantCulture),
    };

    /// <summary>A command in list form, or a string split on spaces.</summary>
    public static List<string> Words(object? node) => node switch
    {
        null => [],
        string s => [.. s.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
        _ => [.. List(node).Select(w => Scalar(w) ?? string.Empty)],
    };
}
