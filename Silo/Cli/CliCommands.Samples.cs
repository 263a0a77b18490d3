using System.CommandLine;

namespace AnomalyZT.Silo.Cli;

internal static partial class CliCommands
{
    private static void AddSampleCommands(RootCommand root)
    {
        root.Subcommands.Add(GenerateSamples());
        root.Subcommands.Add(Nab());
    }

    private static Command Nab()
    {
        var data = new Option<string>("--data") { Description = "NAB folder (with data/ and labels/)", Required = true };
        var output = new Option<string?>("--out") { Description = "Folder for NAB-format result files" };
        var config = new Option<string?>("--config") { Description = "detectors.yaml whose nab section configures the run (default: built-in nab settings)" };
        var detector = new Option<string?>("--detector") { Description = "Override the detector: " + string.Join(", ", Silo.Nab.NabDetectors.Names) };
        var likelihood = new Option<bool>("--likelihood") { Description = "Post-process raw scores with the anomaly likelihood" };
        var cut = new Option<double?>("--cut") { Description = "Override: the score that counts as a detection for suppression" };
        var suppress = new Option<int?>("--suppress") { Description = "Override: rows after a detection during which no other is reported (0: off)" };
        var only = new Option<string[]>("--only") { Description = "Run only these files (category/file.csv), repeatable", AllowMultipleArgumentsPerToken = true };
        var command = new Command("nab", "Run one detector configuration over the Numenta Anomaly Benchmark and print its normalised scores")
        {
            data, output, config, detector, likelihood, cut, suppress, only,
        };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var settings = (parse.GetValue(config) is { } path ? Grains.Config.DetectionConfigLoader.Load(path) : Grains.Config.DetectionConfig.Default).Nab;
                settings.Detector = parse.GetValue(detector) ?? settings.Detector;
                settings.Likelihood |= parse.GetValue(likelihood);
                settings.Cut = parse.GetValue(cut) ?? settings.Cut;
                settings.Suppress = parse.GetValue(suppress) ?? settings.Suppress;
                var factory = Silo.Nab.NabDetectors.Factory(settings);
                var selected = parse.GetValue(only);
                var corpus = Silo.Nab.NabCorpus.Load(parse.GetValue(data)!, selected is { Length: > 0 } ? selected : null);
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var name = settings.Detector + (settings.Likelihood ? "-likelihood" : string.Empty);
                var report = await Silo.Nab.NabRunner.RunAsync(corpus, factory, name, parse.GetValue(output), ct).ConfigureAwait(false);
                Console.WriteLine(report.ToString());
                Console.Error.WriteLine($"nab: {name} over {corpus.Series.Count} series in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0}s");
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or System.Text.Json.JsonException or Grains.Config.DetectionConfigException)
            {
                Console.Error.WriteLine("nab: " + ex.Message);
                return 2;
            }
        });
        return command;
    }

    private static Command GenerateSamples()
    {
        var output = new Option<string>("--out") { Description = "Folder to write", Required = true };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var hours = new Option<int>("--hours") { DefaultValueFactory = _ => 24 };
        var scale = new Option<int>("--scale") { Description = "Multiplies identities, nodes and rates", DefaultValueFactory = _ => 1 };
        var command = new Command("generate-samples", "Write a seeded AI-platform log set with injected incidents") { output, seed, hours, scale };
        command.SetAction(parse =>
        {
            var incidents = Samples.SampleGenerator.Generate(
                new Samples.SampleOptions(parse.GetValue(seed), null, parse.GetValue(hours), parse.GetValue(scale)),
                parse.GetValue(output)!);
            Console.Error.WriteLine($"generate-samples: wrote {parse.GetValue(output)} with {incidents.Count} incidents");
            return 0;
        });
        return command;
    }
}
