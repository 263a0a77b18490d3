using System.CommandLine;

namespace AnomalyZT.Silo.Cli;

internal static partial class CliCommands
{
    private static void AddSampleCommands(RootCommand root) => root.Subcommands.Add(GenerateSamples());

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
