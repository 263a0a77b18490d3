using System.Text.Json;

namespace AnomalyZT.Tests.Deployment;

/// <summary>A Dockerfile read into stages of instructions: comments dropped, continuation lines joined.</summary>
internal sealed class DockerfileModel
{
    private DockerfileModel(List<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    /// <summary>The stage that becomes the image.</summary>
    public DockerStage Final => Stages[^1];

    public static DockerfileModel Load(string path)
    {
        var stages = new List<DockerStage>();
        var logical = string.Empty;
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && logical.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                logical += line[..^1] + " ";
                continue;
            }

            logical += line;
            if (logical.Trim().Length > 0)
            {
                Add(stages, logical.Trim());
            }

            logical = string.Empty;
        }

        if (logical.Trim().Length > 0)
        {
            Add(stages, logical.Trim());
        }

        return new DockerfileModel(stages);
    }

    private static void Add(List<DockerStage> stages, string instruction)
    {
        var space = instruction.IndexOf(' ', StringComparison.Ordinal);
        var keyword = (space < 0 ? instruction : instruction[..space]).ToUpperInvariant();
        var args = space < 0 ? string.Empty : instruction[(space + 1)..].Trim();
        if (keyword == "FROM")
        {
            var words = args.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var asIndex = Array.FindIndex(words, w => w.Equals("AS", StringComparison.OrdinalIgnoreCase));
            stages.Add(new DockerStage(words[0], asIndex >= 0 && asIndex + 1 < words.Length ? words[asIndex + 1] : null));
            return;
        }

        if (stages.Count == 0)
        {
            throw new InvalidDataException(keyword + " before the first FROM");
        }

        stages[^1].Instructions.Add((keyword, args));
    }
}

/// <summary>One build stage.</summary>
internal sealed class DockerStage(string image, string? name)
{
    public string Image { get; } = image;

    public string? Name { get; } = name;

    public List<(string Keyword, string Args)> Instructions { get; } = [];

    public IEnumerable<string> All(string keyword) => Instructions.Where(i => i.Keyword == keyword).Select(i => i.Args);

    public string? Last(string keyword) => All(keyword).LastOrDefault();

    /// <summary>Variables set by ENV (<c>ENV a=1 b=2</c>; the old <c>ENV a 1</c> form too).</summary>
    public Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var args in All("ENV"))
        {
            var words = args.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!words[0].Contains('=', StringComparison.Ordinal))
            {
                env[words[0]] = string.Join(' ', words[1..]);
                continue;
            }

            foreach (var word in words)
            {
                var eq = word.IndexOf('=', StringComparison.Ordinal);
                env[word[..eq]] = word[(eq + 1)..].Trim('"');
            }
        }

        return env;
    }

    /// <summary>An instruction in JSON (exec) form, e.g. ENTRYPOINT.</summary>
    public static string[] ExecForm(string args)
    {
        using var json = JsonDocument.Parse(args);
        return json.RootElement.ValueKind == JsonValueKind.Array
            ? [.. json.RootElement.EnumerateArray().Select(e => e.GetString() ?? string.Empty)]
            : throw new InvalidDataException(args + " is not in JSON (exec) form");
    }
}
