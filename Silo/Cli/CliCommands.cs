using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Silo.Cli;

/// <summary>Command-line tools that share the engine's code: <c>replay</c>, <c>ship</c>, <c>generate-samples</c>.</summary>
internal static partial class CliCommands
{
    private static readonly string[] Names = ["replay", "ship", "generate-samples", "nab"];

    public static bool IsCommand(string arg) => Array.IndexOf(Names, arg) >= 0 || arg is "--help" or "-h";

    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("AnomalyZT: zero-trust anomaly detection for AI/ML platforms. Run without a command to start the silo.");
        root.Subcommands.Add(Replay());
        root.Subcommands.Add(Ship());
        AddSampleCommands(root);
        return root.Parse(args).InvokeAsync();
    }

    private static Command Replay()
    {
        var input = new Option<string[]>("--input") { Description = "Log file or folder (repeatable); folders take files named <x>.<format>.ndjson|log[.gz]", Required = true, AllowMultipleArgumentsPerToken = true };
        var format = new Option<string?>("--format") { Description = "Format of a single --input file: generic, envoy, k8s-audit, zeek-conn, gpu" };
        var config = new Option<string?>("--config") { Description = "detectors.yaml to use instead of the built-in defaults" };
        var inventory = new Option<string?>("--inventory") { Description = "JSON array of {cidr, node} mapping flow addresses to nodes" };
        var partitions = new Option<int>("--partitions") { Description = "Partitions (workers)", DefaultValueFactory = _ => 64 };
        var command = new Command("replay", "Run the pipeline over log files on event time and print findings as JSONL (deterministic)")
        {
            input, format, config, inventory, partitions,
        };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var files = InputFiles.Resolve(parse.GetValue(input)!, parse.GetValue(format));
                var detection = parse.GetValue(config) is { } path ? DetectionConfigLoader.Load(path) : DetectionConfig.Default;
                var entries = parse.GetValue(inventory) is { } inv ? LoadInventory(inv) : [];
                var (findings, summary) = await ReplayCommand.RunAsync(files, detection, entries, parse.GetValue(partitions), Console.Error, ct).ConfigureAwait(false);
                await using (var stdout = Console.OpenStandardOutput())
                {
                    ReplayCommand.WriteJsonl(findings, stdout);
                }

                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"replay: {summary.Lines} lines, {summary.Accepted} accepted, {summary.Rejected} rejected, {summary.Events} events, " +
                    $"{summary.Findings} findings in {summary.Seconds:0.000}s ({summary.Events / Math.Max(summary.Seconds, 1e-9):0} events/s; parse {summary.ParseSeconds:0.000}s); config {detection.Version}"));
                return 0;
            }
            catch (Exception ex) when (ex is DetectionConfigException or ArgumentException or IOException or JsonException or Ingest.IngestLimitException)
            {
                Console.Error.WriteLine("replay: " + ex.Message);
                return 2;
            }
        });
        return command;
    }

    private static Command Ship()
    {
        var input = new Option<string[]>("--input") { Description = "Log file or folder (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var format = new Option<string?>("--format") { Description = "Format of a single --input file" };
        var url = new Option<string>("--url") { Description = "Silo base URL", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var key = new Option<string?>("--key") { Description = "Shipper API key (or set ANOMALYZT_KEY)" };
        var window = new Option<int>("--window-seconds") { Description = "Event-time span of each batch", DefaultValueFactory = _ => 60 };
        var command = new Command("ship", "Post log files to a silo the way a log shipper would: interleaved by event time, in batches per format")
        {
            input, format, url, key, window,
        };
        command.SetAction(async (parse, ct) =>
        {
            var apiKey = parse.GetValue(key) ?? Environment.GetEnvironmentVariable("ANOMALYZT_KEY");
            if (string.IsNullOrEmpty(apiKey))
            {
                Console.Error.WriteLine("ship: pass --key or set ANOMALYZT_KEY (the shipper key from data/initial-keys.txt)");
                return 2;
            }

            try
            {
                var files = InputFiles.Resolve(parse.GetValue(input)!, parse.GetValue(format));
                var result = await Shipper.ShipAsync(files, new Uri(parse.GetValue(url)!), apiKey, parse.GetValue(window), ct).ConfigureAwait(false);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"ship: {result.Requests} requests, {result.Records} records sent, {result.Accepted} accepted, {result.Rejected} rejected, {result.Retries} retries after 429"));
                return result.Records == result.Accepted + result.Rejected ? 0 : 1;
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or HttpRequestException or UriFormatException)
            {
                Console.Error.WriteLine("ship: " + ex.Message);
                return 2;
            }
        });
        return command;
    }

    internal static List<InventoryEntry> LoadInventory(string path)
    {
        var entries = JsonSerializer.Deserialize(File.ReadAllText(path), Serialization.AnomalyJsonContext.Default.ListInventoryEntry) ?? [];
        _ = new NodeInventory(entries); // validates, naming the bad entry
        return entries;
    }
}
