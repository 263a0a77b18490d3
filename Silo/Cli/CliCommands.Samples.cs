using System.CommandLine;

namespace AnomalyZT.Silo.Cli;

internal static partial class CliCommands
{
    private static void AddSampleCommands(RootCommand root) => _ = root;
}
